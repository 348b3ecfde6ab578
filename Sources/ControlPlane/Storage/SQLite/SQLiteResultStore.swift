import Foundation
import GRDB
import MatchContract

/// ``ResultStore`` on the SQLite database.
struct SQLiteResultStore: ResultStore {
    let database: AppDatabase

    /// Batched with other reports and writes (``GroupCommit``): when many matches end together,
    /// their results share transactions. Every statement is prepared once per connection and
    /// every date bound without `DateFormatter` (``StoredDate``).
    func record(_ results: MatchReport) async throws -> RecordedResults {
        try await database.groupCommit.write { db in try Self.record(results, db) }
    }

    private static func record(_ results: MatchReport, _ db: Database) throws -> RecordedResults {
        let matchID = Int64(bitPattern: results.matchID)
        let endedAt = StoredDate(results.endedAt)
        guard
            let session = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, game_id, start_time, status FROM game_sessions WHERE match_id = ?"), arguments: [matchID])
        else { return .unknownMatch }
        guard (session["status"] as String) == SessionStatus.running.rawValue else { return .duplicate }
        let sessionID: Int64 = session["id"]
        let gameID: Int64 = session["game_id"]
        // Copied as stored: no date is parsed to be written back.
        let startTime: DatabaseValue = session["start_time"]
        let ended = results.abandoned ? SessionStatus.abandoned : .finished
        try db.cachedStatement(sql: "UPDATE game_sessions SET status = ?, end_time = ? WHERE id = ?")
            .execute(arguments: [ended.rawValue, endedAt, sessionID])
        if results.abandoned {
            let keepTime = try db.cachedStatement(
                sql: """
                    UPDATE player_game_sessions SET end_time = COALESCE(end_time, ?), time_played_seconds = ?
                    WHERE game_session_id = ? AND player_id = ?
                    """)
            for line in results.lines {
                try keepTime.execute(arguments: [endedAt, line.secondsPlayed, sessionID, Int64(bitPattern: line.playerID)])
            }
            try endParticipations(in: sessionID, at: endedAt, db)
            return .recorded(boardUpdates: [])
        }
        let boards = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT id, key, operator FROM leaderboards WHERE key IN (?, ?)"),
            arguments: [BoardKey.global, BoardKey.game(gameID)]
        ).compactMap { row -> (id: Int64, key: String, op: ScoreOperator)? in
            guard let op = ScoreOperator(rawValue: row["operator"]) else { return nil }
            return (row["id"], row["key"], op)
        }
        let playerExists = try db.cachedStatement(sql: "SELECT 1 FROM players WHERE id = ?")
        let takePart = try db.cachedStatement(
            sql: """
                INSERT INTO player_game_sessions (player_id, game_session_id, start_time, end_time, score, kills, deaths, placement,
                    time_played_seconds)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (player_id, game_session_id) DO UPDATE SET end_time = COALESCE(end_time, excluded.end_time),
                    score = excluded.score, kills = excluded.kills, deaths = excluded.deaths, placement = excluded.placement,
                    time_played_seconds = excluded.time_played_seconds
                """)
        let addStatistics = try db.cachedStatement(
            sql: """
                INSERT INTO player_statistics (player_id, games_played, wins, kills, deaths, total_score, best_score, time_played_seconds)
                VALUES (?, 1, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (player_id) DO UPDATE SET games_played = games_played + 1, wins = wins + excluded.wins,
                    kills = kills + excluded.kills, deaths = deaths + excluded.deaths, total_score = total_score + excluded.total_score,
                    best_score = max(best_score, excluded.best_score), time_played_seconds = time_played_seconds + excluded.time_played_seconds
                """)
        let currentScore = try db.cachedStatement(sql: "SELECT score FROM leaderboard_entries WHERE leaderboard_id = ? AND player_id = ?")
        let setScore = try db.cachedStatement(
            sql: """
                INSERT INTO leaderboard_entries (leaderboard_id, player_id, score, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (leaderboard_id, player_id) DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at
                """)
        // A win needs someone to beat.
        let contested = results.lines.count >= 2
        var updates: [LeaderboardUpdate] = []
        updates.reserveCapacity(results.lines.count * boards.count)
        for line in results.lines {
            let playerID = Int64(bitPattern: line.playerID)
            guard try Int64.fetchOne(playerExists, arguments: [playerID]) != nil else { continue }
            try takePart.execute(arguments: [
                playerID, sessionID, startTime, endedAt, line.score, line.kills, line.deaths, line.placement, line.secondsPlayed,
            ])
            // The first game's best is its score, as on PostgreSQL.
            let won = contested && line.placement == 1 ? 1 : 0
            try addStatistics.execute(arguments: [playerID, won, line.kills, line.deaths, line.score, line.score, line.secondsPlayed])
            for board in boards {
                // Combined here, not in SQL: a sum wraps as the ranking's does instead of
                // becoming a REAL when it overflows.
                let score = board.op.combine(old: try Int64.fetchOne(currentScore, arguments: [board.id, playerID]), new: Int64(line.score))
                try setScore.execute(arguments: [board.id, playerID, score, endedAt])
                updates.append(LeaderboardUpdate(boardKey: board.key, playerID: playerID, score: score))
            }
        }
        try endParticipations(in: sessionID, at: endedAt, db)
        return .recorded(boardUpdates: updates)
    }

    private static func endParticipations(in sessionID: Int64, at time: StoredDate, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE player_game_sessions SET end_time = ? WHERE game_session_id = ? AND end_time IS NULL")
            .execute(arguments: [time, sessionID])
    }

    func statistics(of player: Int64) async throws -> PlayerStatistics {
        try await database.writer.read { db in try PlayerStatisticsRecord.fetchOne(db, key: player)?.statistics ?? PlayerStatistics() }
    }
}
