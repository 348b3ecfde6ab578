import Foundation
import Logging
import MatchContract
import ServiceLifecycle

/// Stores what matches report (see ``ResultStore/record(_:)``) and closes the sessions whose
/// matches are gone; tells the ranking the new board entries and presence who left their match.
public final class ResultsRecorder: Sendable {
    let results: any ResultStore
    let matches: any MatchStore
    let leaderboards: any LeaderboardRanking
    let presence: any PresenceTracking
    let logger: Logger

    init(
        results: any ResultStore, matches: any MatchStore, leaderboards: any LeaderboardRanking, presence: any PresenceTracking,
        logger: Logger
    ) {
        self.results = results
        self.matches = matches
        self.leaderboards = leaderboards
        self.presence = presence
        self.logger = logger
    }

    public enum Outcome: Sendable, Equatable {
        case recorded
        /// Already recorded (a repeated report): nothing changed.
        case duplicate
        case unknownMatch
    }

    @discardableResult
    public func record(_ report: MatchReport) async throws -> Outcome {
        let results = Self.storable(report)
        switch try await self.results.record(results) {
        case .unknownMatch: return .unknownMatch
        case .duplicate: return .duplicate
        case .recorded(let updates):
            await leaderboards.apply(updates)
            for line in results.lines { await presence.setInMatch(Int64(bitPattern: line.playerID), false) }
            logger.info(
                results.abandoned ? "match recorded as abandoned" : "match results recorded",
                metadata: ["match_id": "\(results.matchID)", "players": "\(results.lines.count)"])
            return .recorded
        }
    }

    /// The largest magnitude a reported score, kill or death count is stored with: a game's
    /// report is the game's own code, and sums of wilder values would overflow the statistics'
    /// 64-bit totals (2^40 per match leaves room for eight million matches of each player).
    static let largestStoredCount = 1 << 40

    /// `report` as the stores take it: one line per player (the first), counts within
    /// ±``largestStoredCount``, placements and times played non-negative and finite.
    static func storable(_ report: MatchReport) -> MatchReport {
        var report = report
        var seen = Set<UInt64>()
        let bound = largestStoredCount
        report.lines = report.lines.filter { seen.insert($0.playerID).inserted }.map { line in
            var line = line
            line.score = min(max(line.score, -bound), bound)
            line.kills = min(max(line.kills, 0), bound)
            line.deaths = min(max(line.deaths, 0), bound)
            line.placement = min(max(line.placement, 0), bound)
            line.secondsPlayed = line.secondsPlayed.isFinite ? min(max(line.secondsPlayed, 0), 1e9) : 0
            return line
        }
        return report
    }

    /// Closes one running session as abandoned (its match is gone from the game server).
    @discardableResult
    public func abandon(matchID: UInt64, now: Date = Date()) async throws -> Bool {
        try await matches.closeSession(matchID: matchID, as: .abandoned, at: now)
    }

    /// At start: every session a previous process left `running` is closed as abandoned
    /// (participations ended, nothing counted), so each game is joinable again. Only for a
    /// control port whose game server runs in the same process, which owns every match.
    public func abandonInterruptedMatches(now: Date = Date()) async throws -> Int {
        try await matches.closeRunningSessions(as: .abandoned, at: now)
    }

    /// Closes running sessions that outlived their time limit plus `grace` without reporting
    /// (a crashed or lost game server): marked `timed_out`, participations ended.
    public func closeAbandonedMatches(now: Date = Date(), grace: TimeInterval = 120) async throws -> Int {
        try await matches.closeOverdueSessions(now: now, grace: grace)
    }
}

/// Runs ``ResultsRecorder/closeAbandonedMatches(now:grace:)`` every `interval` until shutdown.
public struct MatchJanitor: Service {
    let recorder: ResultsRecorder
    let interval: Duration
    let grace: TimeInterval

    public init(recorder: ResultsRecorder, interval: Duration, grace: TimeInterval = 120) {
        self.recorder = recorder
        self.interval = interval
        self.grace = grace
    }

    public func run() async throws {
        await sweepPeriodically(every: interval) {
            do {
                let closed = try await recorder.closeAbandonedMatches(grace: grace)
                if closed > 0 { recorder.logger.warning("closed matches that never reported", metadata: ["count": "\(closed)"]) }
            } catch {
                recorder.logger.error("closing abandoned matches failed: \(error)")
            }
        }
    }
}
