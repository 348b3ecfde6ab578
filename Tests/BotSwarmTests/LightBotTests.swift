@testable import BotSwarm
import Foundation
import GameCore
import GameRuntime
import MatchContract
import NetProtocol
import Testing

/// Light bots (``LightClient`` on ``LightBotIO``) against a real game server on loopback UDP,
/// port 0: they connect, play, are acknowledged, and the server finds nothing wrong with them.
/// Bounded by tick count; the server runs its own 60 Hz clock, so the bots keep pace with it.
@Suite struct LightBotTests {
    @Test(arguments: [true, false])
    func lightBotsPlayARealServer(ioUring: Bool) throws {
        var random = SeededRandomSource(seed: 7)
        let key = SymmetricKey(random: &random)
        let bind = NetAddress(ipv4: 127, 0, 0, 1, port: 0)
        let server = try TransportServer(
            configuration: ServerConfiguration(protocolID: 0x6B, privateKey: key, serverAddresses: [bind]), bind: bind, updateInterval: 0.002)
        let address = server.socket.localAddress
        let handler = GameServerHandler(rules: ArenaRules(), directory: MatchDirectory(), logger: .init(label: "test"))
        let running = ServerThread(server, handler)
        var stopped = false
        defer { if !stopped { running.stop() } }

        let io = try #require(LightBotIO(maxSockets: 4, useIOUring: ioUring))
        #expect(io.usesIOUring == ioUring || io.setupErrno != 0)
        let clock = SystemClock()
        var clients: [LightClient<ArenaRules>] = []
        for id in 1...4 {
            let socket = io.openSocket(to: address)
            #expect(Int(socket) == clients.count)
            let client = LightClient(rules: ArenaRules(), socket: socket, server: address)
            client.connect(token: try ConnectToken.generate(
                publicAddresses: [address], expireSeconds: 60, timeoutSeconds: 5, clientID: UInt64(id), protocolID: 0x6B, privateKey: key,
                userData: MatchTicket(matchID: 0, playerID: UInt64(id), displayName: "light\(id)").encoded(), nowUnix: clock.unixSeconds(),
                random: &random), now: clock.now(), io: io)
            clients.append(client)
        }
        io.submit()

        var pacer = TickPacer(rate: 60, start: clock.monotonicSeconds())
        var echoed = false
        for tick in 0..<600 {
            io.submit()
            let now = clock.now()
            io.receiveAll { socket, bytes in clients[Int(socket)].handle(bytes, now: now, io: io) }
            for (index, client) in clients.enumerated() {
                client.tick(input: ArenaBot.input(tick: tick, bot: index), now: now, io: io)
                if tick == 60 { client.sendReliable(Array("echo \(index)".utf8)) }
            }
            io.submit()
            echoed = clients.allSatisfy { $0.reliableReceived == 1 }
            if tick > 120 && echoed && clients.allSatisfy({ $0.lastApplied > 60 && $0.newestTick > 60 }) { break }
            pacer.waitForNextTick()
        }
        let now = clock.now()
        for client in clients {
            #expect(client.state == .connected)
            // The server applied this bot's inputs (the snapshot header says so) and the bot
            // acknowledged snapshots (the server's deltas depend on it).
            #expect(client.lastApplied > 60)
            #expect(client.newestTick > 60)
            #expect(client.reliableSent == 1 && client.reliableReceived == 1)
            #expect(client.malformedMessages == 0 && client.unsentDatagrams == 0)
            #expect(client.channel.rttSamples > 0 && client.channel.malformedPackets == 0 && client.channel.refusedPackets == 0)
            var gaps: [Double] = []
            var acks: [Double] = []
            client.takeMeasurements(into: &gaps, &acks)
            #expect(gaps.count > 60 && acks.count > 60)
            client.disconnect(now: now, io: io)
        }
        io.flush(milliseconds: 200)
        running.stop()
        stopped = true
        #expect(handler.faults.isEmpty, "\(handler.faults)")
        #expect(handler.rateLimitedPackets == 0)
        #expect(io.sendFailures == 0)
    }

    /// Whatever arrives on a bot's socket is outside input: garbage is dropped and counted by the
    /// transport, never a crash.
    @Test func garbageDatagramsAreDroppedAndCounted() throws {
        let io = try #require(LightBotIO(maxSockets: 1, useIOUring: false))
        let server = NetAddress(ipv4: 127, 0, 0, 1, port: 9)
        let client = LightClient(rules: ArenaRules(), socket: 0, server: server)
        var random = SeededRandomSource(seed: 11)
        let key = SymmetricKey(random: &random)
        client.connect(token: try ConnectToken.generate(
            publicAddresses: [server], expireSeconds: 60, timeoutSeconds: 5, clientID: 1, protocolID: 1, privateKey: key,
            userData: [], nowUnix: 1_000, random: &random), now: NetInstant(seconds: 0, unixSeconds: 1_000), io: io)
        var bytes = [UInt8](repeating: 0, count: 1_300)
        for round in 0..<200 {
            let length = Int(random.next() % 1_300)
            for index in 0..<length { bytes[index] = UInt8(truncatingIfNeeded: random.next()) }
            bytes.withUnsafeBytes { raw in
                client.handle(UnsafeRawBufferPointer(rebasing: raw[0..<length]), now: NetInstant(seconds: Double(round) / 60, unixSeconds: 1_000), io: io)
            }
        }
        #expect(client.endpoint.counters.totalDrops == 200)
        #expect(client.state == .sendingRequest)
    }

    @Test func cpuListsParseAndRefuseInOneLine() {
        #expect(CPUList("0")?.cpus == [0])
        #expect(CPUList("0,0-0")?.description == "0")
        if case .failure(let error) = CPUList.parse("1-x") {
            #expect(error.description == "--cpus '1-x': '1-x' is not a CPU number or range like 2-3")
        } else {
            Issue.record("1-x parsed")
        }
        #expect(CPUList("") == nil)
        #expect(CPUList("3-1") == nil)
        #expect(CPUList("2,") == nil)
        if case .failure(let error) = CPUList.parse("1000") {
            #expect(!error.description.contains("\n"))
        } else {
            Issue.record("CPU 1000 accepted")
        }
    }
}

/// A game server on a thread of its own for a test, until `stop()`.
private final class ServerThread {
    private let signal = StopSignal()
    private let done = DispatchSemaphore(value: 0)

    init<Rules: GameRules>(_ server: TransportServer, _ handler: GameServerHandler<Rules>) {
        nonisolated(unsafe) let owned = (server, handler)
        let (signal, done) = (signal, done)
        Thread {
            owned.0.run(handler: owned.1, until: signal)
            done.signal()
        }.start()
    }

    func stop() {
        signal.stop()
        done.wait()
    }
}
