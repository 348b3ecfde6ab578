import ControlPlane
import Foundation
import GameRuntime
import Hummingbird
import HummingbirdTesting
import NetProtocol
import Testing

@Suite struct ObservabilityTests {
    @Test func metricsAndServerStatsRoutes() async throws {
        let board = GameServerStatsBoard()
        let database = try AppDatabase.inMemory()
        var random = SystemRandomSource()
        let directory = MatchDirectory()
        let services = try await ControlPlaneServices.make(
            database: database, hosting: DirectoryHost(directory: directory, serverAddress: .init(ipv4: 127, 0, 0, 1, port: 1)),
            minter: TokenMinter(privateKey: SymmetricKey(random: &random), protocolID: 1), vault: .random(), passwordCost: .minimum,
            observability: Observability(
                metricsText: { "arbiter_example_total 1\n" },
                serverStats: {
                    let stats = board.current
                    return ServerStatsReport(
                        tick: .init(
                            count: stats.ticks, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, overruns: stats.overruns,
                            phases: .init(receive: .init(p50Ms: 0, p99Ms: 0, maxMs: 0), simulate: .init(p50Ms: 0, p99Ms: 0, maxMs: 0),
                                          snapshotSend: .init(p50Ms: 0, p99Ms: 0, maxMs: 0))),
                        matches: stats.matches, connectedClients: stats.connectedClients, datagramsIn: 0, datagramsOut: 0, bytesIn: 0,
                        bytesOut: 0, drops: stats.drops, rttP50Ms: 0, rttP99Ms: 0, meanPacketLoss: 0, cpuSeconds: 0, residentMemoryBytes: 0)
                }))
        let app = Application(router: ControlPlaneRoutes(services: services).router())
        try await app.test(.router) { client in
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains("arbiter_example_total 1"))
            let player = try await client.register("watcher")
            #expect(try await client.call(.get, "/v1/server/stats").status == .unauthorized)
            let stats = try await client.call(.get, "/v1/server/stats", token: player.token)
            #expect(stats.status == .ok)
            #expect((stats["tick"] as? [String: Any])?["count"] as? Int == 0)
        }
        // Without a game server in process the route says so.
        let bare = try await TestControlPlane()
        try await bare.application.test(.router) { client in
            let player = try await client.register("lonely")
            let reply = try await client.call(.get, "/v1/server/stats", token: player.token)
            #expect(reply.status == .serviceUnavailable)
            #expect(reply.errorCode == "no_game_server")
        }
    }
}
