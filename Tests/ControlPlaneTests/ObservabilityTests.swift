import ControlPlane
import Foundation
import GameRuntime
import MatchContract
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
            minter: TokenMinter(privateKey: SymmetricKey(random: &random), protocolID: 1), vault: .random(),
            settings: ControlPlaneSettings(passwordCost: .minimum,
            observability: Observability(
                metricsText: { "arbiter_example_total 1\n" },
                serverStats: { board.current })))
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

    /// Behind a load balancer, every answer names the process that gave it, errors included;
    /// without an instance id the header is absent.
    @Test func instanceHeaderNamesTheProcess() async throws {
        var random = SystemRandomSource()
        let services = try await ControlPlaneServices.make(
            database: try AppDatabase.inMemory(), hosting: DirectoryHost(directory: MatchDirectory(), serverAddress: .init(ipv4: 127, 0, 0, 1, port: 1)),
            minter: TokenMinter(privateKey: SymmetricKey(random: &random), protocolID: 1), vault: .random(),
            settings: ControlPlaneSettings(passwordCost: .minimum,
            observability: Observability(instanceID: "1a2b3c4d")))
        let instance = HTTPFields.Element.Name("X-Arbiter-Instance")!
        try await Application(router: ControlPlaneRoutes(services: services).router()).test(.router) { client in
            #expect(try await client.call(.get, "/healthz").headers[instance] == "1a2b3c4d")
            let refused = try await client.call(.get, "/v1/me")
            #expect(refused.status == .unauthorized)
            #expect(refused.headers[instance] == "1a2b3c4d")
            #expect(try await client.call(.get, "/no/such/route").headers[instance] == "1a2b3c4d")
        }
        let anonymous = try await TestControlPlane()
        try await anonymous.application.test(.router) { client in
            let reply = try await client.call(.get, "/healthz")
            #expect(reply.headers[instance] == nil)
        }
    }
}
