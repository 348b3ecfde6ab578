import Foundation
import MatchContract
import PostgresNIO

/// ``ResultStore`` on the PostgreSQL database.
struct PostgresResultStore: ResultStore {
    let database: PostgresDatabase
    private var logger: Logger { database.logger }

    func record(_ results: MatchReport) async throws -> RecordedResults {
        let matchID = Int64(bitPattern: results.matchID)
        return try await database.transaction { connection -> RecordedResults in
            // The session's row first: a repeated report waits here and then finds it ended.
            let sessions = try await connection.rows(
                "SELECT id, game_id, start_time, status FROM game_sessions WHERE match_id = \(matchID) FOR NO KEY UPDATE", logger: logger)
            guard let session = sessions.first else { return .unknownMatch }
            let (sessionID, gameID, startTime, status) = try session.decode((Int64, Int64, Date, String).self)
            guard status == SessionStatus.running.rawValue else { return .duplicate }
            let ended = results.abandoned ? SessionStatus.abandoned : .finished
            try await connection.run(
                "UPDATE game_sessions SET status = \(ended.rawValue), end_time = \(results.endedAt) WHERE id = \(sessionID)", logger: logger)
            if results.abandoned {
                for line in results.lines {
                    try await connection.run(
                        """
                        UPDATE player_game_sessions SET end_time = COALESCE(end_time, \(results.endedAt)), time_played_seconds = \(line.secondsPlayed)
                        WHERE game_session_id = \(sessionID) AND player_id = \(Int64(bitPattern: line.playerID))
                        """, logger: logger)
                }
                try await PostgresMatchStore.endParticipations(in: [sessionID], at: results.endedAt, connection, logger: logger)
                return .recorded(boardUpdates: [])
            }
            // Then the players' rows, in id order (the order every store locks them in): their
            // statistics and board entries are read and written by one report at a time.
            let playerIDs = results.lines.map { Int64(bitPattern: $0.playerID) }
            let existing = Set(try await connection.rows(
                "SELECT id FROM players WHERE id = ANY(\(playerIDs)) ORDER BY id FOR NO KEY UPDATE", logger: logger
            ).map { try $0.decode(Int64.self) })
            let boards = try await connection.rows(
                "SELECT id, key, operator FROM leaderboards WHERE key IN (\(BoardKey.global), \(BoardKey.game(gameID)))", logger: logger
            ).map { try $0.decode((Int64, String, String).self) }
            // A win needs someone to beat.
            let contested = results.lines.count >= 2
            var updates: [LeaderboardUpdate] = []
            for line in results.lines {
                let playerID = Int64(bitPattern: line.playerID)
                guard existing.contains(playerID) else { continue }
                try await connection.run(
                    """
                    INSERT INTO player_game_sessions (player_id, game_session_id, start_time, end_time, score, kills, deaths, placement,
                        time_played_seconds)
                    VALUES (\(playerID), \(sessionID), \(startTime), \(results.endedAt), \(line.score), \(line.kills), \(line.deaths), \(line.placement),
                        \(line.secondsPlayed))
                    ON CONFLICT (player_id, game_session_id) DO UPDATE SET end_time = COALESCE(player_game_sessions.end_time, excluded.end_time),
                        score = excluded.score, kills = excluded.kills, deaths = excluded.deaths, placement = excluded.placement,
                        time_played_seconds = excluded.time_played_seconds
                    """, logger: logger)
                let won = contested && line.placement == 1 ? 1 : 0
                try await connection.run(
                    """
                    INSERT INTO player_statistics (player_id, games_played, wins, kills, deaths, total_score, best_score, time_played_seconds)
                    VALUES (\(playerID), 1, \(won), \(line.kills), \(line.deaths), \(line.score), \(line.score), \(line.secondsPlayed))
                    ON CONFLICT (player_id) DO UPDATE SET games_played = player_statistics.games_played + 1,
                        wins = player_statistics.wins + excluded.wins, kills = player_statistics.kills + excluded.kills,
                        deaths = player_statistics.deaths + excluded.deaths, total_score = player_statistics.total_score + excluded.total_score,
                        best_score = GREATEST(player_statistics.best_score, excluded.best_score),
                        time_played_seconds = player_statistics.time_played_seconds + excluded.time_played_seconds
                    """, logger: logger)
                for (boardID, key, operatorName) in boards {
                    guard let op = ScoreOperator(rawValue: operatorName) else { continue }
                    let old = try await connection.rows(
                        "SELECT score FROM leaderboard_entries WHERE leaderboard_id = \(boardID) AND player_id = \(playerID)", logger: logger
                    ).first?.decode(Int64.self)
                    let score = op.combine(old: old, new: Int64(line.score))
                    try await connection.run(
                        """
                        INSERT INTO leaderboard_entries (leaderboard_id, player_id, score, updated_at) VALUES (\(boardID), \(playerID), \(score),
                            \(results.endedAt))
                        ON CONFLICT (leaderboard_id, player_id) DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at
                        """, logger: logger)
                    updates.append(LeaderboardUpdate(boardKey: key, playerID: playerID, score: score))
                }
            }
            try await PostgresMatchStore.endParticipations(in: [sessionID], at: results.endedAt, connection, logger: logger)
            // Every control port's ranking learns the entries when (and only if) they commit.
            try await BoardNotices.send(updates, on: connection, logger: logger)
            return .recorded(boardUpdates: updates)
        }
    }

    func statistics(of player: Int64) async throws -> PlayerStatistics {
        let rows = try await database.rows(
            """
            SELECT games_played, wins, kills, deaths, total_score, best_score, time_played_seconds FROM player_statistics
            WHERE player_id = \(player)
            """)
        guard let row = rows.first else { return PlayerStatistics() }
        let (gamesPlayed, wins, kills, deaths, totalScore, bestScore, timePlayed) = try row.decode((Int, Int, Int, Int, Int, Int, Double).self)
        return PlayerStatistics(
            gamesPlayed: gamesPlayed, wins: wins, kills: kills, deaths: deaths, totalScore: totalScore, bestScore: bestScore,
            timePlayedSeconds: timePlayed)
    }
}
