@testable import ControlPlane
import Foundation
import Hummingbird
import MatchContract
import Testing

/// Boards, chat and session ends across two control ports on one PostgreSQL database
/// (``withTwoControlPorts(_:)``).
@Suite(.enabled(if: PostgresTestCluster.isAvailable, "needs PostgreSQL (tools/test installs it)"))
struct CrossInstanceTests {
    @Test func chatSentOnAReachesBOnceAndInOrder() async throws {
        try await withTwoControlPorts { a, b in
            let alice = try await a.client.register("alice")
            let bob = try await b.client.register("bob")
            let onA = a.chatSocket(alice.token)
            let onB = b.chatSocket(bob.token)
            defer {
                onA.close()
                onB.close()
            }
            try await onA.join("lobby")
            try await onB.join("lobby")
            let bodies = (1...5).map { "message \($0)" }
            for body in bodies { onA.say(body, in: "lobby") }
            try await eventually("B has all five") { onB.messageBodies.count >= bodies.count }
            // A last message: anything delivered twice would have come before it.
            onA.say("last", in: "lobby")
            try await eventually("B has the last") { onB.messageBodies.last == "last" }
            #expect(onB.messageBodies == bodies + ["last"])
            try await eventually("A has the last") { onA.messageBodies.last == "last" }
            #expect(onA.messageBodies == bodies + ["last"])
            let received = onB.frames.filter { $0["type"] as? String == "message" }
            #expect(received.first?["sender_name"] as? String == "alice")
            #expect(received.first?["channel"] as? String == "lobby")
        }
    }

    @Test func directMessagesAreLabelledForEachSideAcrossInstances() async throws {
        try await withTwoControlPorts { a, b in
            let alice = try await a.client.register("alice")
            let bob = try await b.client.register("bob")
            let onA = a.chatSocket(alice.token)
            let onB = b.chatSocket(bob.token)
            defer {
                onA.close()
                onB.close()
            }
            try await onA.join("dm:\(bob.id)")
            try await onB.join("dm:\(alice.id)")
            onA.say("psst", in: "dm:\(bob.id)")
            try await eventually("B has it") { onB.messageBodies == ["psst"] }
            // The sender's own copy too, before the sockets close (see ``TestChatSocket``).
            try await eventually("A has it") { onA.messageBodies == ["psst"] }
            #expect(onB.frames.first { $0["type"] as? String == "message" }?["channel"] as? String == "dm:\(alice.id)")
        }
    }

    @Test func senderOnBothInstancesInterleaveInOneOrder() async throws {
        try await withTwoControlPorts { a, b in
            let alice = try await a.client.register("alice")
            let bob = try await b.client.register("bob")
            let onA = a.chatSocket(alice.token)
            let onB = b.chatSocket(bob.token)
            defer {
                onA.close()
                onB.close()
            }
            try await onA.join("lobby")
            try await onB.join("lobby")
            for index in 0..<10 {
                onA.say("a\(index)", in: "lobby")
                onB.say("b\(index)", in: "lobby")
            }
            try await eventually("both have twenty") { onA.messageBodies.count >= 20 && onB.messageBodies.count >= 20 }
            // Both see every message once, in the one order the channel stored them in.
            #expect(onA.messageBodies == onB.messageBodies)
            #expect(Set(onA.messageBodies).count == 20)
            let history = try await b.client.call(.get, "/v1/chat/lobby/messages?limit=50", token: bob.token)
            let stored = (history["messages"] as? [[String: Any]] ?? []).compactMap { $0["body"] as? String }
            #expect(stored.reversed() == onB.messageBodies)
        }
    }

    @Test func resultRecordedThroughAIsOnBsBoard() async throws {
        try await withTwoControlPorts { a, b in
            var players: [(token: String, id: Int64)] = []
            for name in ["ann", "ben", "cat"] { players.append(try await a.client.register(name)) }
            let game = try await a.client.call(.post, "/v1/games", token: players[0].token, json: ["name": "Arena"])
            let gameID = try #require(game.int("id"))
            // B has both boards loaded (and empty) before the result: what it shows next comes
            // from the notification, not from a first load.
            for board in ["global", "game-\(gameID)"] {
                let before = try await b.client.call(.get, "/v1/leaderboards/\(board)", token: players[0].token)
                #expect((before["leaderboard"] as? [[String: Any]])?.isEmpty == true)
            }
            var matchID: UInt64 = 0
            for player in players {
                let join = try await a.client.call(.post, "/v1/games/\(gameID)/join", token: player.token)
                matchID = UInt64(join["match_id"] as? Int ?? 0)
            }
            let scores = [30, 50, 10]
            let report = MatchReport(matchID: matchID, endedAt: Date(), lines: players.enumerated().map { index, player in
                .init(playerID: UInt64(bitPattern: player.id), score: scores[index], kills: 1, deaths: 1, placement: index == 1 ? 1 : 2 + index, secondsPlayed: 60)
            })
            #expect(try await a.services.recorder.record(report) == .recorded)
            for (client, name) in [(b.client, "B"), (a.client, "A")] {
                try await eventually("\(name)'s board has the result") {
                    let board = try await client.call(.get, "/v1/leaderboards/game-\(gameID)", token: players[2].token)
                    return (board["leaderboard"] as? [[String: Any]])?.compactMap { $0["player_name"] as? String } == ["ben", "ann", "cat"]
                }
            }
            let global = try await b.client.call(.get, "/v1/leaderboards/global?around=me", token: players[1].token)
            #expect((global["leaderboard"] as? [[String: Any]])?.first?["score"] as? Int == 50)
        }
    }

    @Test func logoutOnAClosesTheSessionsChatSocketOnB() async throws {
        try await withTwoControlPorts { a, b in
            let alice = try await a.client.register("alice")
            let other = try await a.client.register("other")
            let onB = b.chatSocket(alice.token)
            let bystander = b.chatSocket(other.token)
            defer {
                onB.close()
                bystander.close()
            }
            try await onB.join("lobby")
            try await bystander.join("lobby")
            #expect(try await a.client.call(.delete, "/v1/sessions/current", token: alice.token).status == .noContent)
            try await eventually("B closed alice's socket") { onB.isClosed }
            #expect(onB.frames.last?["code"] as? String == "session_ended")
            #expect(!bystander.isClosed)
        }
    }

    /// Accounts are in the database, not in either instance: what registers through A logs in
    /// through B, and a name registered through both at once is taken once.
    @Test func registrationsOnEitherInstanceAreOneSetOfAccounts() async throws {
        try await withTwoControlPorts { a, b in
            _ = try await a.client.register("alice")
            let login = try await b.client.call(.post, "/v1/sessions", json: ["username": "alice", "password": "correct horse battery"])
            #expect(login.status == .ok)
            let token = try #require(login.string("token"))
            #expect(try await a.client.call(.get, "/v1/me", token: token).string("username") == "alice")

            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for (index, instance) in [a, b, a, b].enumerated() {
                    group.addTask {
                        try await instance.client.call(
                            .post, "/v1/accounts",
                            json: ["username": index % 2 == 0 ? "Racer" : "rACER", "email": "racer\(index)@example.com", "password": "correct horse battery"]
                        ).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .conflict }.count == 3, "\(statuses)")
        }
    }

    /// B's session cache holds alice's session and profile; what A revokes or changes is
    /// forgotten on B as soon as the notification arrives, long before the cache's 30 s.
    @Test func logoutAndProfileChangesOnAReachBsSessionCache() async throws {
        try await withTwoControlPorts { a, b in
            let alice = try await a.client.register("alice")
            let bob = try await a.client.register("bob")
            #expect(try await b.client.call(.get, "/v1/me", token: alice.token).string("display_name") == "alice")
            #expect(try await b.client.call(.get, "/v1/me", token: bob.token).status == .ok)
            let renamed = try await a.client.call(.patch, "/v1/me", token: bob.token, json: ["display_name": "Robert"])
            #expect(renamed.status == .ok)
            try await eventually("B shows bob's new name") {
                try await b.client.call(.get, "/v1/me", token: bob.token).string("display_name") == "Robert"
            }
            #expect(try await a.client.call(.delete, "/v1/sessions/current", token: alice.token).status == .noContent)
            try await eventually("B refuses alice's ended session") {
                try await b.client.call(.get, "/v1/me", token: alice.token).status == .unauthorized
            }
        }
    }

    @Test func aMessageMissedWhileBsListenerWasAwayIsDeliveredAfterItReconnects() async throws {
        try await withTwoControlPorts { a, b in
            let alice = try await a.client.register("alice")
            let bob = try await b.client.register("bob")
            let onA = a.chatSocket(alice.token)
            let onB = b.chatSocket(bob.token)
            defer {
                onA.close()
                onB.close()
            }
            try await onA.join("lobby")
            try await onB.join("lobby")
            onA.say("before", in: "lobby")
            try await eventually("B has the first") { onB.messageBodies == ["before"] }

            try await b.cutListener()
            onA.say("while away", in: "lobby")
            try await eventually("A has it (it is stored)") { onA.messageBodies.last == "while away" }
            #expect(onB.messageBodies == ["before"])
            await b.restoreListener()
            try await eventually("B has it after reconnecting") { onB.messageBodies.count >= 2 }
            onA.say("after", in: "lobby")
            try await eventually("B has the last") { onB.messageBodies.last == "after" }
            #expect(onB.messageBodies == ["before", "while away", "after"])
            try await eventually("A has the last") { onA.messageBodies.last == "after" }
        }
    }

    @Test func boardsAndSessionEndsMissedWhileBsListenerWasAwayAreMadeUp() async throws {
        try await withTwoControlPorts { a, b in
            var players: [(token: String, id: Int64)] = []
            for name in ["ann", "ben"] { players.append(try await a.client.register(name)) }
            let game = try await a.client.call(.post, "/v1/games", token: players[0].token, json: ["name": "Arena"])
            let gameID = try #require(game.int("id"))
            _ = try await b.client.call(.get, "/v1/leaderboards/game-\(gameID)", token: players[0].token)
            let onB = b.chatSocket(players[1].token)
            defer { onB.close() }
            try await onB.join("lobby")
            var matchID: UInt64 = 0
            for player in players {
                matchID = UInt64(try await a.client.call(.post, "/v1/games/\(gameID)/join", token: player.token)["match_id"] as? Int ?? 0)
            }

            try await b.cutListener()
            let report = MatchReport(matchID: matchID, endedAt: Date(), lines: players.enumerated().map { index, player in
                .init(playerID: UInt64(bitPattern: player.id), score: 10 * (index + 1), kills: 0, deaths: 0, placement: 2 - index, secondsPlayed: 60)
            })
            #expect(try await a.services.recorder.record(report) == .recorded)
            #expect(try await a.client.call(.delete, "/v1/sessions/current", token: players[1].token).status == .noContent)
            await b.restoreListener()
            let board = try await b.client.call(.get, "/v1/leaderboards/game-\(gameID)", token: players[0].token)
            #expect((board["leaderboard"] as? [[String: Any]])?.compactMap { $0["player_name"] as? String } == ["ben", "ann"])
            try await eventually("B closed ben's socket") { onB.isClosed }
        }
    }

    @Test func boardNoticesSplitUnderThePayloadLimitAndReadBack() {
        let updates = (0..<400).map { LeaderboardUpdate(boardKey: $0.isMultiple(of: 2) ? "global" : "game:12345", playerID: Int64($0) * 1_000_003, score: -Int64($0) * 77) }
        let bodies = BoardNotices.bodies(for: updates)
        #expect(bodies.count > 1)
        #expect(bodies.allSatisfy { $0.utf8.count <= PostgresNotificationBus.maximumBodyBytes })
        #expect(bodies.flatMap { BoardNotices.updates(in: Substring($0)) ?? [] } == updates)
        #expect(BoardNotices.updates(in: "global 1") == nil)
        #expect(BoardNotices.bodies(for: []).isEmpty)
    }
}
