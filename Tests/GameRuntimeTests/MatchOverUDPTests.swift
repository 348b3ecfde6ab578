import MatchContract
import ArbiterClient
import Foundation
import GameCore
import GameRuntime
import NetProtocol
import Testing

/// A real match over loopback UDP: the game server runs the arena on a fixed tick, two SDK clients
/// play it, and both see each other. Bounded by tick count, never by sleeping.
@Suite struct MatchOverUDPTests {
    @Test func twoClientsPlayTheDefaultArena() throws {
        var random = SystemRandomSource()
        let key = SymmetricKey(random: &random)
        let bind = NetAddress(ipv4: 127, 0, 0, 1, port: 0)
        let server = try TransportServer(
            configuration: ServerConfiguration(protocolID: 0x6A, privateKey: key, serverAddresses: [bind]), bind: bind, updateInterval: 0.002)
        let address = server.socket.localAddress
        let handler = GameServerHandler(rules: ArenaRules(), directory: MatchDirectory(), logger: .init(label: "test"))
        let running = GameServerThread(server, handler)
        defer { running.stop() }
        let clients = try (1...2).map { id -> GameClient in
            let client = try GameClient(settings: MatchSettings(tickRate: 60))
            client.connect(token: try ConnectToken.generate(
                publicAddresses: [address], expireSeconds: 60, timeoutSeconds: 5, clientID: UInt64(id), protocolID: 0x6A, privateKey: key,
                userData: MatchTicket(matchID: 0, playerID: UInt64(id), displayName: "bot\(id)").encoded(), nowUnix: SystemClock().unixSeconds(),
                random: &random))
            return client
        }
        let clock = SystemClock()
        var ticks = 0
        while ticks < 240 {
            let deadline = clock.monotonicSeconds() + 1.0 / 60
            for (index, client) in clients.enumerated() {
                client.tick(input: ArenaRules.Input(moveX: index == 0 ? 127 : -127), until: deadline)
            }
            ticks += 1
        }
        for client in clients {
            #expect(client.state == .connected)
            #expect(client.simulation.snapshotsReceived > 100)
            let frame = client.frame()
            #expect(frame.local != nil)
            #expect(frame.remote.contains { $0.kind == .player }, "sees the other player")
            // Corrections happen in real time when an input arrives late (exactness is tested
            // in virtual time); they stay small.
            let corrections = client.simulation.corrections
            #expect(corrections.isEmpty || corrections.reduce(0, +) / Double(corrections.count) < 1.0)
        }
        #expect(handler.ticks > 100)
        #expect(handler.tickDurations.percentile(0.99) < 0.0167)
        // The published report carries the passes' buckets, every phase's counting the same passes.
        let published = handler.statsBoard.current.tick
        let passes = published.histogram?.count ?? 0
        #expect(passes > 0 && passes <= published.count)
        for phase in [published.phases.receive, published.phases.simulate, published.phases.snapshotSend] { #expect(phase.histogram?.count == passes) }
        for client in clients { client.disconnect() }
    }
}
