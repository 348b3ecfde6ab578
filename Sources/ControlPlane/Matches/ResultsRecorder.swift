import Foundation
import MatchContract
import GRDB
import Logging
import ServiceLifecycle

/// Stores what matches report, each match in one transaction: the session's end, every player's
/// score, kills, deaths, placement and time, their statistics, and the global and game boards.
public final class ResultsRecorder: Sendable {
    let database: AppDatabase
    let leaderboards: LeaderboardCache
    let presence: Presence
    let logger: Logger

    init(database: AppDatabase, leaderboards: LeaderboardCache, presence: Presence, logger: Logger) {
        self.database = database
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
    public func record(_ results: MatchReport) async throws -> Outcome {
        let matchID = Int64(bitPattern: results.matchID)
        let (outcome, updates) = try await database.writer.write { db -> (Outcome, [LeaderboardCache.Update]) in
            guard var session = try GameSessionRecord.filter(Column("match_id") == matchID).fetchOne(db), let sessionID = session.id else {
                return (.unknownMatch, [])
            }
            guard session.status == "running" else { return (.duplicate, []) }
            session.status = results.abandoned ? "abandoned" : "finished"
            session.endTime = results.endedAt
            try session.update(db)
            if results.abandoned {
                for result in results.lines {
                    try db.execute(
                        sql: """
                            UPDATE player_game_sessions SET end_time = COALESCE(end_time, ?), time_played_seconds = ?
                            WHERE game_session_id = ? AND player_id = ?
                            """, arguments: [results.endedAt, result.secondsPlayed, sessionID, Int64(bitPattern: result.playerID)])
                }
                try db.execute(
                    sql: "UPDATE player_game_sessions SET end_time = ? WHERE game_session_id = ? AND end_time IS NULL",
                    arguments: [results.endedAt, sessionID])
                return (.recorded, [])
            }
            // A win needs someone to beat.
            let contested = results.lines.count >= 2
            var updates: [LeaderboardCache.Update] = []
            let boards = try Row.fetchAll(
                db, sql: "SELECT id, key, operator FROM leaderboards WHERE key IN ('global', ?)", arguments: ["game:\(session.gameID)"])
            for result in results.lines {
                let playerID = Int64(bitPattern: result.playerID)
                guard try PlayerRecord.exists(db, key: playerID) else { continue }
                if var participation = try PlayerGameSessionRecord.filter(Column("player_id") == playerID && Column("game_session_id") == sessionID).fetchOne(db) {
                    participation.endTime = participation.endTime ?? results.endedAt
                    participation.score = result.score
                    participation.kills = result.kills
                    participation.deaths = result.deaths
                    participation.placement = result.placement
                    participation.timePlayedSeconds = result.secondsPlayed
                    try participation.update(db)
                } else {
                    var participation = PlayerGameSessionRecord(
                        id: nil, playerID: playerID, gameSessionID: sessionID, startTime: session.startTime, endTime: results.endedAt,
                        score: result.score, kills: result.kills, deaths: result.deaths, placement: result.placement,
                        timePlayedSeconds: result.secondsPlayed)
                    try participation.insert(db)
                }
                var stats = try PlayerStatisticsRecord.fetchOne(db, key: playerID) ?? PlayerStatisticsRecord(playerID: playerID)
                stats.gamesPlayed += 1
                stats.wins += contested && result.placement == 1 ? 1 : 0
                stats.kills += result.kills
                stats.deaths += result.deaths
                stats.totalScore += result.score
                stats.bestScore = max(stats.bestScore, result.score)
                stats.timePlayedSeconds += result.secondsPlayed
                try stats.save(db)
                for board in boards {
                    guard let op = ScoreOperator(rawValue: board["operator"]) else { continue }
                    let boardID: Int64 = board["id"]
                    let old = try Int64.fetchOne(
                        db, sql: "SELECT score FROM leaderboard_entries WHERE leaderboard_id = ? AND player_id = ?", arguments: [boardID, playerID])
                    let score = op.combine(old: old, new: Int64(result.score))
                    try db.execute(
                        sql: """
                            INSERT INTO leaderboard_entries (leaderboard_id, player_id, score, updated_at) VALUES (?, ?, ?, ?)
                            ON CONFLICT (leaderboard_id, player_id) DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at
                            """, arguments: [boardID, playerID, score, results.endedAt])
                    updates.append(.init(boardKey: board["key"], playerID: playerID, score: score))
                }
            }
            try db.execute(
                sql: "UPDATE player_game_sessions SET end_time = ? WHERE game_session_id = ? AND end_time IS NULL",
                arguments: [results.endedAt, sessionID])
            return (.recorded, updates)
        }
        if outcome == .recorded {
            await leaderboards.apply(updates)
            for result in results.lines { await presence.setInMatch(Int64(bitPattern: result.playerID), false) }
            logger.info(
                results.abandoned ? "match recorded as abandoned" : "match results recorded",
                metadata: ["match_id": "\(results.matchID)", "players": "\(results.lines.count)"])
        }
        return outcome
    }

    /// Closes one running session as abandoned (its match is gone from the game server).
    @discardableResult
    public func abandon(matchID: UInt64, now: Date = Date()) async throws -> Bool {
        try await database.writer.write { db in
            let matchID = Int64(bitPattern: matchID)
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM game_sessions WHERE match_id = ? AND status = 'running'", arguments: [matchID])
            else { return false }
            try Self.close(sessionID: id, as: "abandoned", at: now, db)
            return true
        }
    }

    /// At start: every session a previous process left `running` is closed as abandoned
    /// (participations ended, nothing counted), so each game is joinable again. Only for a
    /// control port whose game server runs in the same process, which owns every match.
    public func abandonInterruptedMatches(now: Date = Date()) async throws -> Int {
        try await database.writer.write { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM game_sessions WHERE status = 'running'")
            for id in ids { try Self.close(sessionID: id, as: "abandoned", at: now, db) }
            return ids.count
        }
    }

    private static func close(sessionID: Int64, as status: String, at now: Date, _ db: Database) throws {
        try db.execute(sql: "UPDATE game_sessions SET status = ?, end_time = ? WHERE id = ?", arguments: [status, now, sessionID])
        try db.execute(sql: "UPDATE player_game_sessions SET end_time = ? WHERE game_session_id = ? AND end_time IS NULL", arguments: [now, sessionID])
    }

    /// Closes running sessions that outlived their time limit plus `grace` without reporting
    /// (a crashed or lost game server): marked `timed_out`, participations ended.
    public func closeAbandonedMatches(now: Date = Date(), grace: TimeInterval = 120) async throws -> Int {
        try await database.writer.write { db in
            // Measured by the session's own limit (fixed when it started), not the game's now.
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    SELECT s.id FROM game_sessions s JOIN games g ON g.id = s.game_id
                    WHERE s.status = 'running'
                    AND s.start_time < datetime(?, '-' || (COALESCE(s.time_limit_seconds, g.time_limit_seconds) + ?) || ' seconds')
                    """, arguments: [now, Int(grace)])
            for id in ids { try Self.close(sessionID: id, as: "timed_out", at: now, db) }
            return ids.count
        }
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
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        let closed = try await recorder.closeAbandonedMatches(grace: grace)
                        if closed > 0 { recorder.logger.warning("closed matches that never reported", metadata: ["count": "\(closed)"]) }
                    } catch {
                        recorder.logger.error("closing abandoned matches failed: \(error)")
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            // Shutting down.
        }
    }
}
