import MatchContract
import ControlPlane
import Foundation
import Hummingbird
import HummingbirdTesting
import NetProtocol
import Testing

@Suite struct GameTests {
    @Test func friendsRequestAcceptDeclineAndRemove() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let alice = try await client.register("alice")
            let bob = try await client.register("bob")
            let carol = try await client.register("carol")
            #expect(try await client.call(.post, "/v1/friends", token: alice.token, json: ["username": "bob"]).status == .created)
            #expect(try await client.call(.post, "/v1/friends", token: alice.token, json: ["username": "bob"]).status == .conflict)
            #expect(try await client.call(.post, "/v1/friends", token: alice.token, json: ["username": "alice"]).status == .unprocessableContent)
            #expect(try await client.call(.post, "/v1/friends", token: alice.token, json: ["username": "nobody"]).status == .notFound)
            let bobsView = try await client.call(.get, "/v1/friends", token: bob.token)
            let entries = try #require(bobsView["friends"] as? [[String: Any]])
            #expect(entries.first?["status"] as? String == "incoming")
            #expect(try await client.call(.post, "/v1/friends/\(alice.id)/accept", token: bob.token).status == .ok)
            let accepted = try await client.call(.get, "/v1/friends", token: alice.token)
            #expect((accepted["friends"] as? [[String: Any]])?.first?["status"] as? String == "friend")
            // Carol asks Alice, Alice declines; Bob cannot accept a request meant for Alice.
            _ = try await client.call(.post, "/v1/friends", token: carol.token, json: ["username": "alice"])
            #expect(try await client.call(.post, "/v1/friends/\(carol.id)/accept", token: bob.token).status == .notFound)
            #expect(try await client.call(.post, "/v1/friends/\(carol.id)/decline", token: alice.token).status == .ok)
            #expect(try await client.call(.delete, "/v1/friends/\(bob.id)", token: alice.token).status == .noContent)
            #expect((try await client.call(.get, "/v1/friends", token: alice.token)["friends"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    @Test func gamesInvitesJoinAndAuthorization() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let owner = try await client.register("owner")
            let friend = try await client.register("friend")
            let stranger = try await client.register("stranger")
            let created = try await client.call(.post, "/v1/games", token: owner.token, json: [
                "name": "Private room", "description": "friends only",
                "settings": ["max_players": 4, "tick_rate": 30, "visibility": "private", "score_limit": 10, "time_limit_seconds": 300],
            ])
            #expect(created.status == .created)
            let gameID = try #require(created.int("id"))
            #expect((created["settings"] as? [String: Any])?["tick_rate"] as? Int == 30)
            #expect((created["settings"] as? [String: Any])?["map"] as? String == "default")
            #expect(try await client.call(.post, "/v1/games", token: owner.token, json: ["name": "x", "settings": ["map": "moon"]]).status == .unprocessableContent)

            // Invalid settings are refused with the field's range.
            let invalid = try await client.call(.post, "/v1/games", token: owner.token, json: ["name": "x", "settings": ["max_players": 65]])
            #expect(invalid.status == .unprocessableContent)
            #expect(try await client.call(.post, "/v1/games", token: owner.token, json: ["name": ""]).status == .unprocessableContent)

            // A private game is invisible to strangers, who can neither read, join, change nor close it.
            #expect(try await client.call(.get, "/v1/games/\(gameID)", token: stranger.token).status == .notFound)
            #expect(try await client.call(.post, "/v1/games/\(gameID)/join", token: stranger.token).status == .notFound)
            #expect(try await client.call(.post, "/v1/games/\(gameID)/close", token: stranger.token).status == .notFound)
            let publicList = try await client.call(.get, "/v1/games", token: stranger.token)
            #expect((publicList["games"] as? [Any])?.isEmpty == true)

            // Invite by username; only the invitee sees and answers it.
            let invite = try await client.call(.post, "/v1/games/\(gameID)/invites", token: owner.token, json: ["username": "friend"])
            #expect(invite.status == .created)
            let inviteID = try #require(invite.int("id"))
            #expect(try await client.call(.post, "/v1/games/\(gameID)/invites", token: owner.token, json: ["username": "friend"]).status == .conflict)
            #expect((try await client.call(.get, "/v1/invites", token: stranger.token)["invites"] as? [Any])?.isEmpty == true)
            #expect(try await client.call(.post, "/v1/invites/\(inviteID)/accept", token: stranger.token).status == .notFound)
            #expect((try await client.call(.get, "/v1/invites", token: friend.token)["invites"] as? [Any])?.count == 1)

            // An invited player may see the game but not change it.
            #expect(try await client.call(.get, "/v1/games/\(gameID)", token: friend.token).status == .ok)
            #expect(try await client.call(.patch, "/v1/games/\(gameID)", token: friend.token, json: ["name": "mine now"]).status == .forbidden)
            #expect(try await client.call(.post, "/v1/invites/\(inviteID)/accept", token: friend.token).status == .ok)

            // Join: a token naming the server, the match and the player.
            let join = try await client.call(.post, "/v1/games/\(gameID)/join", token: friend.token)
            #expect(join.status == .ok, "\(join.json)")
            let encodedToken = try #require(join.string("connect_token"))
            let tokenBytes = try #require(Data(base64Encoded: encodedToken))
            #expect(tokenBytes.count == 2048)
            let token = try ConnectToken(decoding: Array(tokenBytes))
            #expect(token.serverAddresses == [plane.serverAddress])
            #expect(join.string("server_address") == "127.0.0.1:40000")
            let sealed = try PrivateConnectToken.open(
                sealed: token.sealedPrivate, protocolID: TestControlPlane.protocolID, expireTimestamp: token.expireTimestamp,
                nonce: token.nonce, privateKey: plane.key)
            let ticket = try #require(MatchTicket(userData: sealed.userData))
            #expect(ticket.playerID == UInt64(friend.id))
            #expect(ticket.matchID == join["match_id"] as? UInt64 ?? UInt64(join["match_id"] as? Int ?? 0))
            #expect(sealed.clientID == UInt64(friend.id))

            // The owner joins the same running match.
            let ownerJoin = try await client.call(.post, "/v1/games/\(gameID)/join", token: owner.token)
            #expect(ownerJoin.int("game_session_id") == join.int("game_session_id"))

            let scoreboard = try await client.call(.get, "/v1/games/\(gameID)/scoreboard", token: owner.token)
            #expect(scoreboard["running"] as? Bool == true)

            // Owner-only changes.
            let renamed = try await client.call(.patch, "/v1/games/\(gameID)", token: owner.token, json: ["name": "Renamed", "settings": ["visibility": "public"]])
            #expect(renamed.string("name") == "Renamed")
            #expect(try await client.call(.post, "/v1/games/\(gameID)/leave", token: friend.token).status == .noContent)
            #expect(try await client.call(.post, "/v1/games/\(gameID)/close", token: owner.token).string("status") == "closed")
            #expect(try await client.call(.post, "/v1/games/\(gameID)/join", token: friend.token).status == .conflict)
        }
    }

    @Test func aFullMatchTurnsPlayersAwayWithoutCountingThem() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            var players: [(token: String, id: Int64)] = []
            for name in ["player1", "player2", "player3"] { players.append(try await client.register(name)) }
            let game = try await client.call(.post, "/v1/games", token: players[0].token, json: ["name": "Duel", "settings": ["max_players": 2]])
            let gameID = game.int("id") ?? 0
            #expect(try await client.call(.post, "/v1/games/\(gameID)/join", token: players[0].token).status == .ok)
            #expect(try await client.call(.post, "/v1/games/\(gameID)/join", token: players[1].token).status == .ok)
            #expect(try await client.call(.post, "/v1/games/\(gameID)/join", token: players[0].token).status == .ok)  // already in
            let full = try await client.call(.post, "/v1/games/\(gameID)/join", token: players[2].token)
            #expect(full.status == .conflict)
            #expect(full.errorCode == "match_full")
            #expect(try await client.call(.get, "/v1/games/\(gameID)", token: players[0].token).int("member_count") == 2)
            // Leaving frees the place.
            #expect(try await client.call(.post, "/v1/games/\(gameID)/leave", token: players[1].token).status == .noContent)
            #expect(try await client.call(.post, "/v1/games/\(gameID)/join", token: players[2].token).status == .ok)
        }
    }

    @Test func watchingTakesNoSeatAndNeedsARunningMatch() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            var players: [(token: String, id: Int64)] = []
            for name in ["player1", "player2", "watcher", "stranger"] { players.append(try await client.register(name)) }
            let game = try await client.call(.post, "/v1/games", token: players[0].token, json: ["name": "Duel", "is_public": true, "settings": ["max_players": 2]])
            let gameID = game.int("id") ?? 0
            // Nothing to watch before a match runs.
            let early = try await client.call(.post, "/v1/games/\(gameID)/watch", token: players[2].token)
            #expect(early.status == .conflict)
            #expect(early.errorCode == "no_match")
            #expect(try await client.call(.post, "/v1/games/\(gameID)/join", token: players[0].token).status == .ok)
            #expect(try await client.call(.post, "/v1/games/\(gameID)/join", token: players[1].token).status == .ok)

            // A full match can still be watched: a spectator's ticket, a client id of its own.
            let watch = try await client.call(.post, "/v1/games/\(gameID)/watch", token: players[2].token)
            #expect(watch.status == .ok, "\(watch.json)")
            let encoded = try #require(watch.string("connect_token"))
            let bytes = try #require(Data(base64Encoded: encoded))
            let token = try ConnectToken(decoding: Array(bytes))
            let sealed = try PrivateConnectToken.open(
                sealed: token.sealedPrivate, protocolID: TestControlPlane.protocolID, expireTimestamp: token.expireTimestamp,
                nonce: token.nonce, privateKey: plane.key)
            let ticket = try #require(MatchTicket(userData: sealed.userData))
            #expect(ticket.role == .spectator)
            #expect(ticket.playerID == UInt64(players[2].id))
            #expect(sealed.clientID >= 1 << 63, "not an account id, so a player may watch its own match")
            #expect(watch.string("websocket_url")?.hasSuffix("/v1/play") == true)
            // No seat was taken, so no one is a member for it, and a player still finds the match full.
            #expect(try await client.call(.get, "/v1/games/\(gameID)", token: players[0].token).int("member_count") == 2)
            #expect(try await client.call(.post, "/v1/games/\(gameID)/join", token: players[3].token).errorCode == "match_full")
            // A player may watch the match it plays in.
            #expect(try await client.call(.post, "/v1/games/\(gameID)/watch", token: players[0].token).status == .ok)

            // A private game is watched only by who could join it.
            let hidden = try await client.call(.post, "/v1/games", token: players[0].token, json: ["name": "Hidden", "settings": ["visibility": "private"]])
            let hiddenID = hidden.int("id") ?? 0
            #expect(try await client.call(.post, "/v1/games/\(hiddenID)/join", token: players[0].token).status == .ok)
            #expect(try await client.call(.post, "/v1/games/\(hiddenID)/watch", token: players[3].token).status == .notFound)
            #expect(try await client.call(.post, "/v1/games/\(hiddenID)/watch", token: players[0].token).status == .ok)
        }
    }

    @Test func publicGamesArePaged() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let owner = try await client.register("owner")
            for index in 0..<7 {
                _ = try await client.call(.post, "/v1/games", token: owner.token, json: ["name": "Room \(index)"])
            }
            _ = try await client.call(.post, "/v1/games", token: owner.token, json: ["name": "Hidden", "settings": ["visibility": "private"]])
            var names: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.call(.get, "/v1/games?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), token: owner.token)
                names += (page["games"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                cursor = page.string("next_cursor")
            } while cursor != nil
            #expect(names == (0..<7).map { "Room \($0)" })
            #expect(try await client.call(.get, "/v1/games?limit=0", token: owner.token).status == .badRequest)
            #expect(try await client.call(.get, "/v1/games?cursor=-4", token: owner.token).status == .badRequest)
        }
    }

    @Test func resultsReachLeaderboardsAndStatistics() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            var players: [(token: String, id: Int64)] = []
            for name in ["ann", "ben", "cat", "dan"] { players.append(try await client.register(name)) }
            let game = try await client.call(.post, "/v1/games", token: players[0].token, json: ["name": "Arena"])
            let gameID = try #require(game.int("id"))
            var matchID: UInt64 = 0
            for player in players {
                let join = try await client.call(.post, "/v1/games/\(gameID)/join", token: player.token)
                matchID = UInt64(join["match_id"] as? Int ?? 0)
            }
            let scores = [30, 50, 10, 50]
            let results = MatchReport(matchID: matchID, endedAt: Date(), lines: players.enumerated().map { index, player in
                .init(playerID: UInt64(bitPattern: player.id), score: scores[index], kills: scores[index] / 10, deaths: 1, placement: index == 1 ? 1 : 2 + index, secondsPlayed: 60)
            })
            #expect(try await plane.services.recorder.record(results) == .recorded)
            #expect(try await plane.services.recorder.record(results) == .duplicate)

            let board = try await client.call(.get, "/v1/leaderboards/game-\(gameID)", token: players[0].token)
            let entries = try #require(board["leaderboard"] as? [[String: Any]])
            #expect(entries.map { $0["player_name"] as? String } == ["ben", "dan", "ann", "cat"])
            #expect(entries.map { $0["rank"] as? Int } == [1, 2, 3, 4])
            #expect(entries.first?["score"] as? Int == 50)
            #expect(entries.first?["player_id"] as? Int == Int(players[1].id))

            // A second match: the game board keeps the best, the global board sums.
            let second = try await client.call(.post, "/v1/games/\(gameID)/join", token: players[2].token)
            let secondMatch = UInt64(second["match_id"] as? Int ?? 0)
            #expect(secondMatch != matchID)
            _ = try await plane.services.recorder.record(MatchReport(matchID: secondMatch, endedAt: Date(), lines: [
                .init(playerID: UInt64(bitPattern: players[2].id), score: 45, kills: 4, deaths: 0, placement: 1, secondsPlayed: 30),
            ]))
            let global = try await client.call(.get, "/v1/leaderboards/global?around=me&limit=3", token: players[2].token)
            let around = try #require(global["leaderboard"] as? [[String: Any]])
            #expect(around.contains { $0["player_name"] as? String == "cat" && $0["score"] as? Int == 55 })
            let gameBoard = try await client.call(.get, "/v1/leaderboards/game-\(gameID)?limit=2", token: players[2].token)
            #expect((gameBoard["leaderboard"] as? [[String: Any]])?.count == 2)
            #expect(gameBoard.string("next_cursor") == "2")
            let page2 = try await client.call(.get, "/v1/leaderboards/game-\(gameID)?limit=2&cursor=2", token: players[2].token)
            #expect((page2["leaderboard"] as? [[String: Any]])?.map { $0["player_name"] as? String } == ["cat", "ann"])

            let stats = try await client.call(.get, "/v1/players/\(players[2].id)/statistics", token: players[0].token)
            #expect(stats.int("games_played") == 2)
            // Third of four in the first match; alone in the second, which counts no win.
            #expect(stats.int("wins") == 0)
            let winner = try await client.call(.get, "/v1/players/\(players[1].id)/statistics", token: players[0].token)
            #expect(winner.int("wins") == 1)
            #expect(stats.int("total_score") == 55)
            #expect(stats.int("best_score") == 45)
            #expect(try await client.call(.get, "/v1/leaderboards/nope", token: players[0].token).status == .notFound)
            #expect(try await client.call(.get, "/v1/leaderboards/global?around=999", token: players[0].token).status == .notFound)
        }
    }

    @Test func matchesThatNeverReportAreClosedByTimeout() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let player = try await client.register("eve")
            let game = try await client.call(.post, "/v1/games", token: player.token, json: ["name": "Crashy", "settings": ["time_limit_seconds": 60]])
            _ = try await client.call(.post, "/v1/games/\(game.int("id") ?? 0)/join", token: player.token)
        }
        #expect(try await plane.services.recorder.closeAbandonedMatches(now: Date().addingTimeInterval(100)) == 0)
        #expect(try await plane.services.recorder.closeAbandonedMatches(now: Date().addingTimeInterval(200)) == 1)
        let status = try await plane.database.writer.read { db in try String.fetchOne(db, sql: "SELECT status FROM game_sessions") }
        #expect(status == "timed_out")
    }
}
