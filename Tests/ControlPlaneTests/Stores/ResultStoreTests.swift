@testable import ControlPlane
import Foundation
import MatchContract
import Testing

/// ``ResultStore`` and ``LeaderboardStore``, against every implementation in ``StoreFactory/all``.
@Suite struct ResultStoreTests {
    static func line(_ player: Account, score: Int, placement: Int) -> MatchReport.Line {
        .init(playerID: UInt64(bitPattern: player.id), score: score, kills: score / 10, deaths: 1, placement: placement, secondsPlayed: 60)
    }

    @Test(arguments: StoreFactory.all) func resultsAreRecordedOnceIntoStatisticsAndBoards(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let ann = try await stores.player("ann")
            let ben = try await stores.player("ben")
            let game = try await stores.game(by: ann.id)
            let first = try await stores.runningSession(of: game.id, matchID: 10)
            try await stores.matches.takeSeat(player: ann.id, in: first, capacity: 4, maxConcurrentMatches: 2, at: Date())
            let results = MatchReport(matchID: 10, endedAt: Date(), lines: [Self.line(ann, score: 30, placement: 2), Self.line(ben, score: 50, placement: 1)])
            guard case .recorded(let updates) = try await stores.results.record(results) else {
                Issue.record("the results were not recorded")
                return
            }
            #expect(Set(updates.map(\.boardKey)) == [BoardKey.global, BoardKey.game(game.id)])
            #expect(updates.contains(LeaderboardUpdate(boardKey: BoardKey.global, playerID: ben.id, score: 50)))
            // A repeated report changes nothing; an unknown match is said to be one.
            #expect(try await stores.results.record(results) == .duplicate)
            #expect(try await stores.results.record(MatchReport(matchID: 999, endedAt: Date(), lines: [])) == .unknownMatch)
            #expect(try await stores.matches.runningSession(ofGame: game.id) == nil)

            let benStats = try await stores.results.statistics(of: ben.id)
            #expect(benStats == PlayerStatistics(gamesPlayed: 1, wins: 1, kills: 5, deaths: 1, totalScore: 50, bestScore: 50, timePlayedSeconds: 60))
            #expect(try await stores.results.statistics(of: ann.id).wins == 0)

            // A second match: the game's board keeps the best, the global board sums.
            _ = try await stores.runningSession(of: game.id, matchID: 11)
            #expect(try await stores.results.record(MatchReport(matchID: 11, endedAt: Date(), lines: [Self.line(ann, score: 45, placement: 1)])) != .duplicate)
            let global = try #require(try await stores.leaderboards.board(BoardKey.global))
            #expect(global.scoreOperator == .sum)
            #expect(global.entries == [.init(playerID: ann.id, score: 75), .init(playerID: ben.id, score: 50)])
            let gameBoard = try #require(try await stores.leaderboards.board(BoardKey.game(game.id)))
            #expect(gameBoard.scoreOperator == .best)
            #expect(gameBoard.entries == [.init(playerID: ben.id, score: 50), .init(playerID: ann.id, score: 45)])
            #expect(try await stores.leaderboards.board("game:999999") == nil)
            // Alone in a match: no win.
            #expect(try await stores.results.statistics(of: ann.id) == PlayerStatistics(
                gamesPlayed: 2, wins: 0, kills: 7, deaths: 2, totalScore: 75, bestScore: 45, timePlayedSeconds: 120))
        }
    }

    @Test(arguments: StoreFactory.all) func anAbandonedMatchCountsForNoOne(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let ann = try await stores.player("ann")
            let ben = try await stores.player("ben")
            let game = try await stores.game(by: ann.id)
            _ = try await stores.runningSession(of: game.id, matchID: 5)
            let results = MatchReport(
                matchID: 5, endedAt: Date(), lines: [Self.line(ann, score: 9, placement: 1), Self.line(ben, score: 1, placement: 2)],
                abandoned: true)
            #expect(try await stores.results.record(results) == .recorded(boardUpdates: []))
            #expect(try await stores.results.record(results) == .duplicate)
            #expect(try await stores.results.statistics(of: ann.id) == PlayerStatistics())
            #expect(try await stores.leaderboards.board(BoardKey.global)?.entries.isEmpty == true)
            #expect(try await stores.matches.runningSession(ofGame: game.id) == nil)
        }
    }

    /// Many reports at once (the group commit's batches on SQLite, concurrent transactions on
    /// PostgreSQL), players shared between matches: every line counts once, and each player's
    /// global entry (a sum) equals their statistics' total.
    @Test(arguments: StoreFactory.all) func concurrentReportsEachCountOnce(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let options = ResultsWriteBenchmark.Options(matches: 24, playersPerMatch: 4, concurrency: 8, players: 10, seed: 7)
            let figures = try await ResultsWriteBenchmark.run(stores: stores, options: options)
            #expect(figures.matches == 24 && figures.lines == 96 && figures.latenciesMs.count == 24)
            let global = try #require(try await stores.leaderboards.board(BoardKey.global))
            var gamesPlayed = 0
            for index in 0..<options.players {
                let player = try #require(try await stores.accounts.account(named: "bench_\(index)"))
                let statistics = try await stores.results.statistics(of: player.id)
                gamesPlayed += statistics.gamesPlayed
                #expect(global.entries.first { $0.playerID == player.id }?.score ?? 0 == Int64(statistics.totalScore))
            }
            #expect(gamesPlayed == 96)
        }
    }

    /// What a game reports is stored within bounds: one line per player, counts that cannot
    /// overflow the totals, no negative or non-finite time.
    @Test func reportsAreMadeStorable() {
        let wild = MatchReport(matchID: 1, endedAt: Date(), lines: [
            .init(playerID: 1, score: Int.max, kills: -3, deaths: Int.min, placement: -1, secondsPlayed: .nan),
            .init(playerID: 2, score: Int.min, kills: 2, deaths: 1, placement: 2, secondsPlayed: -5),
            .init(playerID: 1, score: 10, kills: 1, deaths: 1, placement: 3, secondsPlayed: 60),
        ])
        let stored = ResultsRecorder.storable(wild)
        let bound = ResultsRecorder.largestStoredCount
        #expect(stored.lines == [
            .init(playerID: 1, score: bound, kills: 0, deaths: 0, placement: 0, secondsPlayed: 0),
            .init(playerID: 2, score: -bound, kills: 2, deaths: 1, placement: 2, secondsPlayed: 0),
        ])
    }
}
