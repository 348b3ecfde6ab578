import Foundation
import GRDB
import MatchContract

/// ``ResultStore`` on the SQLite database.
struct SQLiteResultStore: ResultStore {
    let database: AppDatabase

    func record(_ results: MatchReport) async throws -> RecordedResults {
        let matchID = Int64(bitPattern: results.matchID)
        return try await database.writer.write { db -> RecordedResults in
            guard var session = try GameSessionRecord.filter(Column("match_id") == matchID).fetchOne(db), let sessionID = session.id else {
                return .unknownMatch
            }
            guard session.status == SessionStatus.running.rawValue else { return .duplicate }
            session.status = (results.abandoned ? SessionStatus.abandoned : .finished).rawValue
            session.endTime = results.endedAt
            try session.update(db)
            if results.abandoned {
                for line in results.lines {
                    try db.execute(
                        sql: """
                            UPDATE player_game_sessions SET end_time = COALESCE(end_time, ?), time_played_seconds = ?
                            WHERE game_session_id = ? AND player_id = ?
                            """, arguments: [results.endedAt, line.secondsPlayed, sessionID, Int64(bitPattern: line.playerID)])
                }
                try Self.endParticipations(in: sessionID, at: results.endedAt, db)
                return .recorded(boardUpdates: [])
            }
            // A win needs someone to beat.
            let contested = results.lines.count >= 2
            var updates: [LeaderboardUpdate] = []
            let boards = try Row.fetchAll(
                db, sql: "SELECT id, key, operator FROM leaderboards WHERE key IN (?, ?)", arguments: [BoardKey.global, BoardKey.game(session.gameID)])
            for line in results.lines {
                let playerID = Int64(bitPattern: line.playerID)
                guard try PlayerRecord.exists(db, key: playerID) else { continue }
                if var participation = try PlayerGameSessionRecord.filter(Column("player_id") == playerID && Column("game_session_id") == sessionID).fetchOne(db) {
                    participation.endTime = participation.endTime ?? results.endedAt
                    participation.score = line.score
                    participation.kills = line.kills
                    participation.deaths = line.deaths
                    participation.placement = line.placement
                    participation.timePlayedSeconds = line.secondsPlayed
                    try participation.update(db)
                } else {
                    var participation = PlayerGameSessionRecord(
                        id: nil, playerID: playerID, gameSessionID: sessionID, startTime: session.startTime, endTime: results.endedAt,
                        score: line.score, kills: line.kills, deaths: line.deaths, placement: line.placement,
                        timePlayedSeconds: line.secondsPlayed)
                    try participation.insert(db)
                }
                var stats = try PlayerStatisticsRecord.fetchOne(db, key: playerID) ?? PlayerStatisticsRecord(playerID: playerID)
                stats.gamesPlayed += 1
                stats.wins += contested && line.placement == 1 ? 1 : 0
                stats.kills += line.kills
                stats.deaths += line.deaths
                stats.totalScore += line.score
                stats.bestScore = max(stats.bestScore, line.score)
                stats.timePlayedSeconds += line.secondsPlayed
                try stats.save(db)
                for board in boards {
                    guard let op = ScoreOperator(rawValue: board["operator"]) else { continue }
                    let boardID: Int64 = board["id"]
                    let old = try Int64.fetchOne(
                        db, sql: "SELECT score FROM leaderboard_entries WHERE leaderboard_id = ? AND player_id = ?", arguments: [boardID, playerID])
                    let score = op.combine(old: old, new: Int64(line.score))
                    try db.execute(
                        sql: """
                            INSERT INTO leaderboard_entries (leaderboard_id, player_id, score, updated_at) VALUES (?, ?, ?, ?)
                            ON CONFLICT (leaderboard_id, player_id) DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at
                            """, arguments: [boardID, playerID, score, results.endedAt])
                    updates.append(LeaderboardUpdate(boardKey: board["key"], playerID: playerID, score: score))
                }
            }
            try Self.endParticipations(in: sessionID, at: results.endedAt, db)
            return .recorded(boardUpdates: updates)
        }
    }

    private static func endParticipations(in sessionID: Int64, at time: Date, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE player_game_sessions SET end_time = ? WHERE game_session_id = ? AND end_time IS NULL", arguments: [time, sessionID])
    }

    func statistics(of player: Int64) async throws -> PlayerStatistics {
        try await database.writer.read { db in try PlayerStatisticsRecord.fetchOne(db, key: player)?.statistics ?? PlayerStatistics() }
    }
}
