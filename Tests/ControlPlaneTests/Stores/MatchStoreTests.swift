@testable import ControlPlane
import Foundation
import Testing

/// ``MatchStore``, against every implementation in ``StoreFactory/all``.
@Suite struct MatchStoreTests {
    static func newSession(_ game: Int64, matchID: UInt64) -> NewGameSession {
        NewGameSession(gameID: game, matchID: matchID, serverAddress: "127.0.0.1:40000", startTime: Date(), timeLimitSeconds: 600)
    }

    @Test(arguments: StoreFactory.all) func aGameRunsOneSessionAtATime(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let owner = try await stores.player("owner")
            let game = try await stores.game(by: owner.id)
            let other = try await stores.game(by: owner.id, name: "other")
            #expect(try await stores.matches.runningSession(ofGame: game.id) == nil)
            guard case .started(let first) = try await stores.matches.startSession(Self.newSession(game.id, matchID: 1)) else {
                Issue.record("the first session did not start")
                return
            }
            #expect(first.matchID == 1 && first.status == .running && first.gameID == game.id && first.timeLimitSeconds == 600)
            // A second start for the same game is refused, and answered with the one that runs.
            #expect(try await stores.matches.startSession(Self.newSession(game.id, matchID: 2)) == .alreadyRunning(first))
            #expect(try await stores.matches.runningSession(ofGame: game.id) == first)
            // Other games are not held up by it.
            #expect(try await stores.matches.startSession(Self.newSession(other.id, matchID: 3)).session.matchID == 3)
            // Once it ends, the next one starts.
            #expect(try await stores.matches.closeSession(matchID: 1, as: .abandoned, at: Date()))
            #expect(try await !stores.matches.closeSession(matchID: 1, as: .abandoned, at: Date()))
            guard case .started(let next) = try await stores.matches.startSession(Self.newSession(game.id, matchID: 4)) else {
                Issue.record("no session started after the first ended")
                return
            }
            #expect(try await stores.matches.runningSession(ofGame: game.id) == next)
        }
    }

    @Test(arguments: StoreFactory.all) func racingStartsLeaveOneSessionRunning(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let owner = try await stores.player("owner")
            let game = try await stores.game(by: owner.id)
            let starts = try await withThrowingTaskGroup(of: SessionStart.self) { group in
                for matchID in UInt64(1)...16 {
                    group.addTask { try await stores.matches.startSession(Self.newSession(game.id, matchID: matchID)) }
                }
                return try await group.reduce(into: [SessionStart]()) { $0.append($1) }
            }
            let started = starts.compactMap { start -> GameSession? in
                if case .started(let session) = start { return session }
                return nil
            }
            #expect(started.count == 1)
            #expect(starts.allSatisfy { $0.session == started.first }, "every join is told the same session")
            #expect(try await stores.matches.runningSession(ofGame: game.id) == started.first)
        }
    }

    @Test(arguments: StoreFactory.all) func seatsAreCappedPerMatchAndPerPlayer(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let ann = try await stores.player("ann")
            let ben = try await stores.player("ben")
            let cat = try await stores.player("cat")
            let games = [
                try await stores.game(by: ann.id, name: "a"), try await stores.game(by: ann.id, name: "b"), try await stores.game(by: ann.id, name: "c"),
            ]
            var sessions: [GameSession] = []
            for (index, game) in games.enumerated() { sessions.append(try await stores.runningSession(of: game.id, matchID: UInt64(index + 1))) }
            try await stores.matches.takeSeat(player: ann.id, in: sessions[0], capacity: 2, maxConcurrentMatches: 2, at: Date())
            // Taking one's own place again changes nothing, even at the caps.
            try await stores.matches.takeSeat(player: ann.id, in: sessions[0], capacity: 1, maxConcurrentMatches: 0, at: Date())
            try await stores.matches.takeSeat(player: ben.id, in: sessions[0], capacity: 2, maxConcurrentMatches: 2, at: Date())
            await expectStoreError(.matchFull) {
                try await stores.matches.takeSeat(player: cat.id, in: sessions[0], capacity: 2, maxConcurrentMatches: 2, at: Date())
            }
            try await stores.matches.takeSeat(player: ann.id, in: sessions[1], capacity: 2, maxConcurrentMatches: 2, at: Date())
            await expectStoreError(.capReached(held: 2)) {
                try await stores.matches.takeSeat(player: ann.id, in: sessions[2], capacity: 2, maxConcurrentMatches: 2, at: Date())
            }
            // A seat makes its player a member of the game.
            #expect(try await stores.games.game(games[0].id, for: ben.id)?.standing.isMember == true)
            // An ended match frees its places, also from the per-player count.
            #expect(try await stores.matches.closeSession(matchID: 1, as: .abandoned, at: Date()))
            try await stores.matches.takeSeat(player: ann.id, in: sessions[2], capacity: 2, maxConcurrentMatches: 2, at: Date())
        }
    }

    @Test(arguments: StoreFactory.all) func overdueAndInterruptedSessionsAreClosed(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let owner = try await stores.player("owner")
            let start = Date()
            let short = try await stores.game(by: owner.id, name: "short", timeLimitSeconds: 60)
            let long = try await stores.game(by: owner.id, name: "long", timeLimitSeconds: 600)
            _ = try await stores.runningSession(of: short.id, matchID: 1, startedAt: start, timeLimitSeconds: 60)
            _ = try await stores.runningSession(of: long.id, matchID: 2, startedAt: start, timeLimitSeconds: 600)
            // The session's own limit counts (plus the grace), not the game's as edited since.
            _ = try await stores.games.updateGame(long.id, by: owner.id) { game, _ in game.timeLimitSeconds = 10 }
            #expect(try await stores.matches.closeOverdueSessions(now: start.addingTimeInterval(170), grace: 120) == 0)
            #expect(try await stores.matches.closeOverdueSessions(now: start.addingTimeInterval(190), grace: 120) == 1)
            #expect(try await stores.matches.runningSession(ofGame: short.id) == nil)
            #expect(try await stores.matches.closeOverdueSessions(now: start.addingTimeInterval(700), grace: 120) == 0)
            #expect(try await stores.matches.closeRunningSessions(as: .abandoned, at: Date()) == 1)
            #expect(try await stores.matches.runningSession(ofGame: long.id) == nil)
            #expect(try await stores.matches.closeRunningSessions(as: .abandoned, at: Date()) == 0)
        }
    }
}
