import MatchContract
import ControlPlane
import Foundation
import GameRuntime
import Hummingbird
import HummingbirdTesting
import NetProtocol
import Testing

/// The join route and the recorder keep the database in agreement with the game server; an
/// account's claims on the game servers are capped.
@Suite struct MatchRecoveryRouteTests {
    func plane(limits: MatchLimits = MatchLimits(), metricsToken: String? = nil) async throws -> (ControlPlaneServices, MatchDirectory, AppDatabase) {
        var random = SystemRandomSource()
        let directory = MatchDirectory()
        let database = try AppDatabase.inMemory()
        let services = try await ControlPlaneServices.make(
            database: database, hosting: DirectoryHost(directory: directory, serverAddress: NetAddress(ipv4: 127, 0, 0, 1, port: 40000)),
            minter: TokenMinter(privateKey: SymmetricKey(random: &random), protocolID: 0xC0DE), vault: .random(),
            settings: ControlPlaneSettings(passwordCost: .minimum,
            observability: Observability(metricsText: { "arbiter_up 1\n" }, metricsToken: metricsToken), matchLimits: limits))
        return (services, directory, database)
    }

    @Test func aJoinNeverHandsOutATokenForAMatchTheServerNoLongerRuns() async throws {
        let (services, directory, database) = try await plane()
        try await Application(router: ControlPlaneRoutes(services: services).router()).test(.router) { client in
            let ann = try await client.register("ann")
            let game = try await client.call(.post, "/v1/games", token: ann.token, json: ["name": "g"])
            let gameID = try #require(game.int("id"))
            let first = try await client.call(.post, "/v1/games/\(gameID)/join", token: ann.token)
            let firstMatch = UInt64(try #require(first.int("match_id")))
            #expect(directory.contains(firstMatch))
            // The game server loses the match (it lapsed, or a crash took it): the next join
            // closes the stale session and starts a match the server does run.
            _ = directory.endDueMatches(now: .greatestFiniteMagnitude, wallClock: Date())
            #expect(!directory.contains(firstMatch))
            let second = try await client.call(.post, "/v1/games/\(gameID)/join", token: ann.token)
            #expect(second.status == .ok)
            let secondMatch = UInt64(try #require(second.int("match_id")))
            #expect(secondMatch != firstMatch)
            #expect(directory.contains(secondMatch))
            let statuses = try await database.writer.read { db in
                try String.fetchAll(db, sql: "SELECT status FROM game_sessions ORDER BY id")
            }
            #expect(statuses == ["abandoned", "running"])
        }
    }

    @Test func concurrentJoinsOfAGameShareOneMatch() async throws {
        let (services, directory, database) = try await plane()
        try await Application(router: ControlPlaneRoutes(services: services).router()).test(.router) { client in
            var players: [(token: String, id: Int64)] = []
            for index in 0..<5 { players.append(try await client.register("racer\(index)")) }
            let game = try await client.call(.post, "/v1/games", token: players[0].token, json: ["name": "g", "settings": ["max_players": 8]])
            let gameID = try #require(game.int("id"))
            let matches = try await withThrowingTaskGroup(of: Int?.self) { group in
                for player in players {
                    group.addTask { try await client.call(.post, "/v1/games/\(gameID)/join", token: player.token).int("match_id") }
                }
                return try await group.reduce(into: [Int?]()) { $0.append($1) }
            }
            // Each join may have started a match on the game server, but one session runs and
            // everyone was sent to it; the others lapse unjoined.
            #expect(matches.count == 5 && Set(matches).count == 1 && matches.first != nil)
            let running = try await database.writer.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM game_sessions WHERE status = 'running'")
            }
            #expect(running == 1)
            #expect(directory.contains(UInt64(try #require(matches.first ?? nil))))
        }
    }

    @Test func interruptedSessionsAreClosedAsAbandonedAndCountForNoOne() async throws {
        let (services, _, database) = try await plane()
        try await Application(router: ControlPlaneRoutes(services: services).router()).test(.router) { client in
            let ann = try await client.register("ann")
            let ben = try await client.register("ben")
            let game = try await client.call(.post, "/v1/games", token: ann.token, json: ["name": "g"])
            let gameID = try #require(game.int("id"))
            _ = try await client.call(.post, "/v1/games/\(gameID)/join", token: ann.token)
            _ = try await client.call(.post, "/v1/games/\(gameID)/join", token: ben.token)
            #expect(try await services.recorder.abandonInterruptedMatches() == 1)
            let open = try await database.writer.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM player_game_sessions WHERE end_time IS NULL")
            }
            #expect(open == 0, "participations ended")
            let stats = try await client.call(.get, "/v1/players/\(ann.id)/statistics", token: ann.token)
            #expect(stats.int("games_played") == 0 && stats.int("wins") == 0)
            // The game is joinable again at once.
            #expect(try await client.call(.post, "/v1/games/\(gameID)/join", token: ben.token).status == .ok)
        }
    }

    @Test func anAbandonedReportKeepsTimePlayedAndChangesNoStatistic() async throws {
        let (services, _, database) = try await plane()
        try await Application(router: ControlPlaneRoutes(services: services).router()).test(.router) { client in
            let ann = try await client.register("ann")
            let ben = try await client.register("ben")
            let game = try await client.call(.post, "/v1/games", token: ann.token, json: ["name": "g"])
            let gameID = try #require(game.int("id"))
            let joined = try await client.call(.post, "/v1/games/\(gameID)/join", token: ann.token)
            _ = try await client.call(.post, "/v1/games/\(gameID)/join", token: ben.token)
            let matchID = UInt64(try #require(joined.int("match_id")))
            let results = MatchReport(matchID: matchID, endedAt: Date(), lines: [
                .init(playerID: UInt64(bitPattern: ann.id), score: 9, kills: 9, deaths: 0, placement: 1, secondsPlayed: 42),
                .init(playerID: UInt64(bitPattern: ben.id), score: 1, kills: 1, deaths: 9, placement: 2, secondsPlayed: 40),
            ], abandoned: true)
            #expect(try await services.recorder.record(results) == .recorded)
            #expect(try await services.recorder.record(results) == .duplicate)
            let stats = try await client.call(.get, "/v1/players/\(ann.id)/statistics", token: ann.token)
            #expect(stats.int("games_played") == 0 && stats.int("wins") == 0 && stats.int("total_score") == 0)
            let played = try await database.writer.read { db in
                try Double.fetchOne(db, sql: "SELECT time_played_seconds FROM player_game_sessions WHERE player_id = ?", arguments: [ann.id])
            }
            #expect(played == 42)
        }
    }

    @Test func concurrentMatchesPerAccountAndTickRateAreCapped() async throws {
        let (services, _, _) = try await plane(limits: MatchLimits(maxConcurrentMatchesPerAccount: 2, maxTickRate: 128))
        try await Application(router: ControlPlaneRoutes(services: services).router()).test(.router) { client in
            let ann = try await client.register("ann")
            var games: [Int] = []
            for index in 0..<3 {
                let game = try await client.call(.post, "/v1/games", token: ann.token, json: ["name": "g\(index)"])
                games.append(try #require(game.int("id")))
            }
            #expect(try await client.call(.post, "/v1/games/\(games[0])/join", token: ann.token).status == .ok)
            #expect(try await client.call(.post, "/v1/games/\(games[1])/join", token: ann.token).status == .ok)
            let third = try await client.call(.post, "/v1/games/\(games[2])/join", token: ann.token)
            #expect(third.status == .conflict && third.errorCode == "too_many_matches")
            // Joining one already held again is no new claim.
            #expect(try await client.call(.post, "/v1/games/\(games[0])/join", token: ann.token).status == .ok)

            let fast = try await client.call(.post, "/v1/games", token: ann.token, json: ["name": "fast", "settings": ["tick_rate": 200]])
            #expect(fast.status == .unprocessableContent)
            let ok = try await client.call(.post, "/v1/games", token: ann.token, json: ["name": "ok", "settings": ["tick_rate": 128]])
            #expect(ok.status == .created)
        }
        let (allowing, _, _) = try await plane(limits: MatchLimits(maxTickRate: 240))
        try await Application(router: ControlPlaneRoutes(services: allowing).router()).test(.router) { client in
            let ann = try await client.register("ann")
            #expect(try await client.call(.post, "/v1/games", token: ann.token, json: ["name": "f", "settings": ["tick_rate": 240]]).status == .created)
        }
    }

    @Test func metricsCanRequireABearerToken() async throws {
        let (services, _, _) = try await plane(metricsToken: "s3cret-metrics")
        try await Application(router: ControlPlaneRoutes(services: services).router()).test(.router) { client in
            let anonymous = try await client.call(.get, "/metrics")
            let wrong = try await client.call(.get, "/metrics", token: "wrong")
            let right = try await client.call(.get, "/metrics", token: "s3cret-metrics")
            #expect(anonymous.status == .unauthorized && wrong.status == .unauthorized)
            #expect(right.status == .ok)
        }
    }

    @Test func editingTheTimeLimitDoesNotEndARunningMatchEarly() async throws {
        let (services, _, _) = try await plane()
        try await Application(router: ControlPlaneRoutes(services: services).router()).test(.router) { client in
            let ann = try await client.register("ann")
            let game = try await client.call(.post, "/v1/games", token: ann.token, json: ["name": "g", "settings": ["time_limit_seconds": 600]])
            let gameID = try #require(game.int("id"))
            _ = try await client.call(.post, "/v1/games/\(gameID)/join", token: ann.token)
            #expect(try await client.call(.patch, "/v1/games/\(gameID)", token: ann.token, json: ["settings": ["time_limit_seconds": 10]]).status == .ok)
            // 200 s on: past the new limit plus grace, well within the one the match started with.
            #expect(try await services.recorder.closeAbandonedMatches(now: Date().addingTimeInterval(200)) == 0)
            #expect(try await services.recorder.closeAbandonedMatches(now: Date().addingTimeInterval(800)) == 1)
        }
    }
}
