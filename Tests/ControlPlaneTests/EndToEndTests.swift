import MatchContract
import ControlPlane
import Foundation
import GameCore
import GameRuntime
import GRDB
import Hummingbird
import HummingbirdTesting
import NetProtocol
import Testing

/// The join route's token against the real game server over loopback UDP.
@Suite struct EndToEndTests {
    @Test func aJoinTokenIsAcceptedByTheGameServer() async throws {
        // The game server first, so the control port can name its real port in tokens.
        let directory = MatchDirectory()
        var random = SystemRandomSource()
        let key = SymmetricKey(random: &random)
        let bind = NetAddress(ipv4: 127, 0, 0, 1, port: 0)
        let transport = try TransportServer(
            configuration: ServerConfiguration(protocolID: TestControlPlane.protocolID, privateKey: key, serverAddresses: [bind]), bind: bind)
        let serverAddress = transport.socket.localAddress
        let database = try AppDatabase.inMemory()
        let services = try await ControlPlaneServices.make(
            database: database, hosting: DirectoryHost(directory: directory, serverAddress: serverAddress),
            minter: TokenMinter(privateKey: key, protocolID: TestControlPlane.protocolID), vault: .random(),
            settings: ControlPlaneSettings(passwordCost: .minimum))
        let handler = GameServerHandler(rules: ArenaRules(), directory: directory, logger: .init(label: "test"))
        let service = TransportServerService(server: transport, handler: handler)
        let serviceTask = Task { try await service.run() }
        defer { serviceTask.cancel() }

        let app = Application(router: ControlPlaneRoutes(services: services).router())
        let tokenBytes: [UInt8] = try await app.test(.router) { client in
            let player = try await client.register("player")
            let game = try await client.call(.post, "/v1/games", token: player.token, json: ["name": "E2E"])
            let join = try await client.call(.post, "/v1/games/\(game.int("id") ?? 0)/join", token: player.token)
            let encoded = try #require(join.string("connect_token"))
            return Array(try #require(Data(base64Encoded: encoded)))
        }
        let client = try TransportClient()
        client.connect(token: try ConnectToken(decoding: tokenBytes))
        var polls = 0
        while client.state.isConnecting && polls < 500 {
            client.poll(until: client.clock.monotonicSeconds() + 0.01)
            polls += 1
        }
        #expect(client.state == .connected)
        // The game server admitted the player into the match the token named.
        polls = 0
        var seen = false
        while !seen && polls < 200 {
            client.poll(until: client.clock.monotonicSeconds() + 0.01)
            polls += 1
            if let board = await firstScoreboard(services, database) { seen = board.contains { $0.displayName == "player" } }
        }
        #expect(seen)
        client.disconnect()
    }

    private func firstScoreboard(_ services: ControlPlaneServices, _ database: AppDatabase) async -> [ScoreLine]? {
        let stored = try? await database.writer.read { db in try Int64.fetchOne(db, sql: "SELECT match_id FROM game_sessions") }
        guard let matchID = stored else { return nil }
        return await services.hosting.scoreboard(matchID: UInt64(bitPattern: matchID))
    }
}
