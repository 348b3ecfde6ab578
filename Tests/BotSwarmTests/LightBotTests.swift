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

    /// The light channel against the SDK's full channel connection in the match layout, in
    /// virtual time: 10 % loss each way and every fifth packet duplicated for 8 s, then a clean
    /// second. The full side must see no fault, get the inputs, and see every reliable message
    /// acknowledged; the light side must count each echo once and read every snapshot header.
    @Test func lightChannelIsAGoodPeerOfTheFullOneUnderLoss() throws {
        let server = try ChannelConnection(configuration: MatchChannel.connectionConfiguration())
        let light = LightChannel()
        var random = SeededRandomSource(seed: 3)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Netcode.maxPayloadBytes, alignment: 16)
        defer { buffer.deallocate() }
        var inputsReceived = 0
        var snapshotsRead = 0
        var reliableSent = 0
        let input: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        for tick in 0..<540 {
            let now = Double(tick) / 60
            let lossy = tick < 480
            while let message = server.receive(on: MatchChannel.reliable) { try server.send(message, on: .reliable) }
            while server.receive(on: MatchChannel.input) != nil { inputsReceived += 1 }
            var snapshot = [UInt8](repeating: 0, count: 40)
            snapshot[0] = SnapshotCodec.kind
            withUnsafeBytes(of: UInt32(tick + 1).littleEndian) { snapshot.replaceSubrange(1..<5, with: $0) }
            try server.send(snapshot, on: .snapshot)
            server.generatePackets(now: now) { packet in
                guard !lossy || random.next() % 10 != 0 else { return }
                for _ in 0..<(lossy && random.next() % 5 == 0 ? 2 : 1) {
                    light.handlePacket(packet, now: now) { message in
                        if message.count >= 12 && message[0] == SnapshotCodec.kind { snapshotsRead += 1 }
                    }
                }
            }
            if tick % 20 == 0 && tick < 400 && light.sendReliable(Array("message \(tick)".utf8)) { reliableSent += 1 }
            let length = input.withUnsafeBytes { light.writePacket(into: buffer, input: $0, now: now) }
            if !lossy || random.next() % 10 != 0 {
                server.handlePacket(UnsafeRawBufferPointer(rebasing: buffer[0..<length]), now: now)
            }
        }
        #expect(server.fault == nil)
        #expect(reliableSent == 20)
        #expect(light.reliableReceived == reliableSent)
        #expect(server.unacknowledgedCount(on: MatchChannel.reliable.rawValue) == 0)
        #expect(inputsReceived > 450)
        #expect(snapshotsRead > 450)
        #expect(light.duplicatePackets > 50)
        #expect(light.malformedPackets == 0 && light.refusedPackets == 0)
        #expect(light.rttSamples > 400 && server.statistics.rttSamples > 400)
        #expect(server.statistics.packetLoss < 0.2)
    }

    /// The light bot's input message is byte for byte the SDK's, with the newest eight inputs.
    @Test func inputMessagesMatchTheProtocolsEncoding() {
        let rules = ArenaRules()
        let client = LightClient(rules: rules, socket: 0, server: NetAddress(ipv4: 127, 0, 0, 1, port: 9))
        var sent: [ArenaRules.Input] = []
        for tick in 0..<20 {
            let input = ArenaBot.input(tick: tick * 7, bot: tick)
            sent.append(input)
            client.writeInput(input, now: Double(tick))
            let expected = InputMessage(ackedSnapshot: 0, viewTick: 0, newestSequence: UInt32(tick + 1), inputs: sent.suffix(8).reversed())
            #expect(client.inputMessage == expected.encoded(with: rules), "tick \(tick)")
        }
    }

    /// Bytes that are not a channel packet are dropped and counted, and never acknowledged.
    @Test func lightChannelDropsMalformedPackets() {
        let light = LightChannel()
        var random = SeededRandomSource(seed: 5)
        var bytes = [UInt8](repeating: 0, count: 64)
        var parsed = 0
        for _ in 0..<500 {
            let length = Int(random.next() % 64)
            for index in 0..<length { bytes[index] = UInt8(truncatingIfNeeded: random.next()) }
            bytes.withUnsafeBytes { raw in
                light.handlePacket(UnsafeRawBufferPointer(rebasing: raw[0..<length]), now: 0) { _ in parsed += 1 }
            }
        }
        #expect(light.malformedPackets > 400)
        #expect(light.malformedPackets + light.duplicatePackets + light.refusedPackets + light.packetsReceived == 500)
    }

    @Test func cpuListsParseAndRefuseInOneLine() {
        #expect(CPUList(parsing: "0")?.cpus == [0])
        #expect(CPUList(parsing: "0,0-0")?.description == "0")
        if case .failure(let error) = CPUList.parse("1-x") {
            #expect(error.description == "--cpus '1-x': '1-x' is not a CPU number or range like 2-3")
        } else {
            Issue.record("1-x parsed")
        }
        #expect(CPUList(parsing: "") == nil)
        #expect(CPUList(parsing: "3-1") == nil)
        #expect(CPUList(parsing: "2,") == nil)
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
