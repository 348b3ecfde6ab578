import Foundation
import MatchContract
import PostgresNIO

/// ``ResultStore`` on the PostgreSQL database.
struct PostgresResultStore: ResultStore {
    let database: PostgresDatabase
    private var logger: Logger { database.logger }

    /// A report is a few set-based statements (its lines as arrays, `unnest`ed), not a few per
    /// player: each statement is a round trip, and a 16-player match took a hundred of them.
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
            let reported = results.lines.map { Int64(bitPattern: $0.playerID) }
            try await connection.run(
                "UPDATE game_sessions SET status = \(ended.rawValue), end_time = \(results.endedAt) WHERE id = \(sessionID)", logger: logger)
            if results.abandoned {
                try await connection.run(
                    """
                    UPDATE player_game_sessions p SET end_time = COALESCE(p.end_time, \(results.endedAt)), time_played_seconds = l.seconds
                    FROM unnest(\(reported), \(results.lines.map(\.secondsPlayed))) AS l(player_id, seconds)
                    WHERE p.game_session_id = \(sessionID) AND p.player_id = l.player_id
                    """, logger: logger)
                try await PostgresMatchStore.endParticipations(in: [sessionID], at: results.endedAt, connection, logger: logger)
                return .recorded(boardUpdates: [])
            }
            // Then the players' rows, in id order (the order every store locks them in): their
            // statistics and board entries are read and written by one report at a time.
            let existing = Set(try await connection.rows(
                "SELECT id FROM players WHERE id = ANY(\(reported)) ORDER BY id FOR NO KEY UPDATE", logger: logger
            ).map { try $0.decode(Int64.self) })
            // One line per player already (an upsert cannot touch a row twice).
            let lines = results.lines.filter { existing.contains(Int64(bitPattern: $0.playerID)) }
            guard !lines.isEmpty else {
                try await PostgresMatchStore.endParticipations(in: [sessionID], at: results.endedAt, connection, logger: logger)
                return .recorded(boardUpdates: [])
            }
            let players = lines.map { Int64(bitPattern: $0.playerID) }
            let scores = lines.map { Int64($0.score) }
            let kills = lines.map { Int64($0.kills) }
            let deaths = lines.map { Int64($0.deaths) }
            let seconds = lines.map(\.secondsPlayed)
            // A win needs someone to beat.
            let contested = results.lines.count >= 2
            let wins = lines.map { contested && $0.placement == 1 ? Int64(1) : 0 }
            try await connection.run(
                """
                INSERT INTO player_game_sessions (player_id, game_session_id, start_time, end_time, score, kills, deaths, placement,
                    time_played_seconds)
                SELECT l.player_id, \(sessionID), \(startTime), \(results.endedAt), l.score, l.kills, l.deaths, l.placement, l.seconds
                FROM unnest(\(players), \(scores), \(kills), \(deaths), \(lines.map { Int64($0.placement) }), \(seconds))
                    AS l(player_id, score, kills, deaths, placement, seconds)
                ON CONFLICT (player_id, game_session_id) DO UPDATE SET end_time = COALESCE(player_game_sessions.end_time, excluded.end_time),
                    score = excluded.score, kills = excluded.kills, deaths = excluded.deaths, placement = excluded.placement,
                    time_played_seconds = excluded.time_played_seconds
                """, logger: logger)
            try await connection.run(
                """
                INSERT INTO player_statistics (player_id, games_played, wins, kills, deaths, total_score, best_score, time_played_seconds)
                SELECT l.player_id, 1, l.wins, l.kills, l.deaths, l.score, l.score, l.seconds
                FROM unnest(\(players), \(wins), \(kills), \(deaths), \(scores), \(seconds)) AS l(player_id, wins, kills, deaths, score, seconds)
                ON CONFLICT (player_id) DO UPDATE SET games_played = player_statistics.games_played + 1,
                    wins = player_statistics.wins + excluded.wins, kills = player_statistics.kills + excluded.kills,
                    deaths = player_statistics.deaths + excluded.deaths, total_score = player_statistics.total_score + excluded.total_score,
                    best_score = GREATEST(player_statistics.best_score, excluded.best_score),
                    time_played_seconds = player_statistics.time_played_seconds + excluded.time_played_seconds
                """, logger: logger)
            let boards = try await connection.rows(
                "SELECT id, key, operator FROM leaderboards WHERE key IN (\(BoardKey.global), \(BoardKey.game(gameID)))", logger: logger
            ).map { try $0.decode((Int64, String, String).self) }
            var updates: [LeaderboardUpdate] = []
            for (boardID, key, operatorName) in boards {
                guard let op = ScoreOperator(rawValue: operatorName) else { continue }
                // Combined here, not in SQL: a sum wraps as the ranking's does instead of failing
                // the report at bigint's end.
                var old: [Int64: Int64] = [:]
                for row in try await connection.rows(
                    "SELECT player_id, score FROM leaderboard_entries WHERE leaderboard_id = \(boardID) AND player_id = ANY(\(players))",
                    logger: logger)
                {
                    let (player, score) = try row.decode((Int64, Int64).self)
                    old[player] = score
                }
                let combined = zip(players, scores).map { player, score in op.combine(old: old[player], new: score) }
                try await connection.run(
                    """
                    INSERT INTO leaderboard_entries (leaderboard_id, player_id, score, updated_at)
                    SELECT \(boardID), l.player_id, l.score, \(results.endedAt) FROM unnest(\(players), \(combined)) AS l(player_id, score)
                    ON CONFLICT (leaderboard_id, player_id) DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at
                    """, logger: logger)
                updates += zip(players, combined).map { LeaderboardUpdate(boardKey: key, playerID: $0, score: $1) }
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
