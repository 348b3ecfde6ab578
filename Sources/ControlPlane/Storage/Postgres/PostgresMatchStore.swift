import Foundation
import PostgresNIO

/// ``MatchStore`` on the PostgreSQL database.
struct PostgresMatchStore: MatchStore {
    let database: PostgresDatabase
    private var logger: Logger { database.logger }

    static let columns = "id, game_id, match_id, server_address, start_time, end_time, status, time_limit_seconds"

    static func session(_ row: PostgresRow) throws -> GameSession {
        let (id, gameID, matchID, serverAddress, startTime, endTime, status, timeLimit) =
            try row.decode((Int64, Int64, Int64, String, Date, Date?, String, Int?).self)
        return GameSession(
            id: id, gameID: gameID, matchID: UInt64(bitPattern: matchID), serverAddress: serverAddress, startTime: startTime, endTime: endTime,
            // The column's CHECK allows only these.
            status: SessionStatus(rawValue: status) ?? .abandoned, timeLimitSeconds: timeLimit)
    }

    func runningSession(ofGame game: Int64) async throws -> GameSession? {
        try await database.rows(
            "SELECT \(unescaped: Self.columns) FROM game_sessions WHERE game_id = \(game) AND status = 'running' ORDER BY id DESC LIMIT 1"
        ).first.map(Self.session)
    }

    func runningSessions(limit: Int) async throws -> [GameSession] {
        try await database.rows(
            "SELECT \(unescaped: Self.columns) FROM game_sessions WHERE status = 'running' ORDER BY id DESC LIMIT \(limit)"
        ).map(Self.session)
    }

    func startSession(_ session: NewGameSession) async throws -> SessionStart {
        // `game_sessions_one_running` decides: the insert waits for a racing one to commit and
        // then does nothing, and the session that one started is read (it is committed, so the
        // next statement sees it). Should that session end in between, the start is tried again.
        for _ in 0..<3 {
            let started = try await database.rows(
                """
                INSERT INTO game_sessions (game_id, match_id, server_address, start_time, status, time_limit_seconds)
                VALUES (\(session.gameID), \(Int64(bitPattern: session.matchID)), \(session.serverAddress), \(session.startTime), 'running',
                    \(session.timeLimitSeconds))
                ON CONFLICT (game_id) WHERE status = 'running' DO NOTHING
                RETURNING \(unescaped: Self.columns)
                """)
            if let row = started.first { return .started(try Self.session(row)) }
            if let running = try await runningSession(ofGame: session.gameID) { return .alreadyRunning(running) }
        }
        throw PostgresStoreInconsistency(what: "a session neither started nor was found running")
    }

    func takeSeat(player: Int64, in session: GameSession, capacity: Int, maxConcurrentMatches: Int, at now: Date) async throws {
        try await database.transaction { connection in
            // The session's row, then the player's: seats of one match and matches of one player
            // are then counted and taken one at a time (and always in that order).
            try await connection.run("SELECT id FROM game_sessions WHERE id = \(session.id) FOR NO KEY UPDATE", logger: logger)
            try await connection.run("SELECT id FROM players WHERE id = \(player) FOR NO KEY UPDATE", logger: logger)
            let alreadyIn = try await connection.rows(
                "SELECT 1 FROM player_game_sessions WHERE game_session_id = \(session.id) AND player_id = \(player) AND end_time IS NULL",
                logger: logger)
            if alreadyIn.isEmpty {
                let elsewhere = try await connection.rows(
                    """
                    SELECT count(*) FROM player_game_sessions p JOIN game_sessions s ON s.id = p.game_session_id
                    WHERE p.player_id = \(player) AND p.end_time IS NULL AND s.status = 'running' AND s.id <> \(session.id)
                    """, logger: logger
                ).first?.decode(Int.self) ?? 0
                guard elsewhere < maxConcurrentMatches else { throw StoreError.capReached(held: elsewhere) }
                let seated = try await connection.rows(
                    "SELECT count(*) FROM player_game_sessions WHERE game_session_id = \(session.id) AND end_time IS NULL", logger: logger
                ).first?.decode(Int.self) ?? 0
                guard seated < capacity else { throw StoreError.matchFull }
                // Rejoining after leaving reopens the earlier place.
                try await connection.run(
                    """
                    INSERT INTO player_game_sessions (player_id, game_session_id, start_time) VALUES (\(player), \(session.id), \(now))
                    ON CONFLICT (player_id, game_session_id) DO UPDATE SET end_time = NULL
                    """, logger: logger)
            }
            try await connection.run(
                "INSERT INTO game_members (game_id, player_id, joined_at) VALUES (\(session.gameID), \(player), \(now)) ON CONFLICT DO NOTHING",
                logger: logger)
        }
    }

    func closeSession(matchID: UInt64, as status: SessionStatus, at now: Date) async throws -> Bool {
        try await database.transaction { connection in
            let closed = try await connection.rows(
                """
                UPDATE game_sessions SET status = \(status.rawValue), end_time = \(now)
                WHERE match_id = \(Int64(bitPattern: matchID)) AND status = 'running' RETURNING id
                """, logger: logger)
            guard let id = try closed.first?.decode(Int64.self) else { return false }
            try await Self.endParticipations(in: [id], at: now, connection, logger: logger)
            return true
        }
    }

    func closeRunningSessions(as status: SessionStatus, at now: Date) async throws -> Int {
        try await database.transaction { connection in
            let ids = try await connection.rows(
                "UPDATE game_sessions SET status = \(status.rawValue), end_time = \(now) WHERE status = 'running' RETURNING id", logger: logger
            ).map { try $0.decode(Int64.self) }
            try await Self.endParticipations(in: ids, at: now, connection, logger: logger)
            return ids.count
        }
    }

    func closeOverdueSessions(now: Date, grace: TimeInterval) async throws -> Int {
        try await database.transaction { connection in
            // Measured by the session's own limit (fixed when it started), not the game's now; the
            // arithmetic is done here, as on SQLite, so that both decide alike.
            let running = try await connection.rows(
                """
                SELECT s.id, s.start_time, COALESCE(s.time_limit_seconds, g.time_limit_seconds)
                FROM game_sessions s JOIN games g ON g.id = s.game_id WHERE s.status = 'running' FOR NO KEY UPDATE OF s
                """, logger: logger)
            var overdue: [Int64] = []
            for row in running {
                let (id, start, limit) = try row.decode((Int64, Date, Int).self)
                if start.addingTimeInterval(TimeInterval(limit) + grace) < now { overdue.append(id) }
            }
            guard !overdue.isEmpty else { return 0 }
            try await connection.run(
                "UPDATE game_sessions SET status = 'timed_out', end_time = \(now) WHERE id = ANY(\(overdue))", logger: logger)
            try await Self.endParticipations(in: overdue, at: now, connection, logger: logger)
            return overdue.count
        }
    }

    static func endParticipations(in sessions: [Int64], at now: Date, _ connection: PostgresConnection, logger: Logger) async throws {
        guard !sessions.isEmpty else { return }
        try await connection.run(
            "UPDATE player_game_sessions SET end_time = \(now) WHERE game_session_id = ANY(\(sessions)) AND end_time IS NULL", logger: logger)
    }
}
