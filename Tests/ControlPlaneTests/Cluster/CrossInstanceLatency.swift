@testable import ControlPlane
import Foundation
import MatchContract
import Testing

/// How long a result recorded through one control port takes to reach another's board: a
/// measurement, not a check (it asserts nothing about time). Run it with
/// `ARBITER_MEASURE_BUS=1 swift test --filter CrossInstanceLatency`; it prints the figures.
@Suite(.enabled(if: PostgresTestCluster.isAvailable && ProcessInfo.processInfo.environment["ARBITER_MEASURE_BUS"] == "1"))
struct CrossInstanceLatency {
    @Test func resultToOtherInstancesBoard() async throws {
        try await withTwoControlPorts { a, b in
            let ann = try await a.client.register("ann")
            let ben = try await a.client.register("ben")
            let game = try await a.client.call(.post, "/v1/games", token: ann.token, json: ["name": "Arena"])
            let gameID = Int64(try #require(game.int("id")))
            let key = BoardKey.game(gameID)
            _ = try await b.services.leaderboards.page(key, from: 0, limit: 1, around: nil)
            let clock = ContinuousClock()
            var afterCommit: [Duration] = []
            var afterCall: [Duration] = []
            for round in 1...200 {
                var matchID: UInt64 = 0
                for player in [ann, ben] {
                    matchID = UInt64(try await a.client.call(.post, "/v1/games/\(gameID)/join", token: player.token)["match_id"] as? Int ?? 0)
                }
                let score = round * 10
                let report = MatchReport(matchID: matchID, endedAt: Date(), lines: [
                    .init(playerID: UInt64(bitPattern: ann.id), score: score, kills: 0, deaths: 0, placement: 1, secondsPlayed: 1),
                    .init(playerID: UInt64(bitPattern: ben.id), score: 0, kills: 0, deaths: 0, placement: 2, secondsPlayed: 1),
                ])
                let start = clock.now
                #expect(try await a.services.recorder.record(report) == .recorded)
                let committed = clock.now
                var polls = 0
                while try await b.services.leaderboards.page(key, from: 0, limit: 1, around: nil)?.entries.first?.entry.score != Int64(score) {
                    polls += 1
                    guard polls < 200_000 else {
                        Issue.record("round \(round) never arrived")
                        return
                    }
                    try await Task.sleep(for: .microseconds(100))
                }
                let seen = clock.now
                afterCall.append(seen - start)
                afterCommit.append(seen - committed)
            }
            func summary(_ samples: [Duration]) -> String {
                let sorted = samples.sorted()
                func ms(_ d: Duration) -> String { String(format: "%.2f ms", Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000) }
                return "p50 \(ms(sorted[sorted.count / 2])) p99 \(ms(sorted[sorted.count * 99 / 100])) max \(ms(sorted[sorted.count - 1]))"
            }
            print("bus latency: record() returned -> B's board: \(summary(afterCommit)); record() called -> B's board: \(summary(afterCall)) (\(afterCall.count) results)")
        }
    }
}
