import Foundation
import GRDB

/// ``MatchStore`` on the SQLite database.
struct SQLiteMatchStore: MatchStore {
    let database: AppDatabase

    private static func running(ofGame game: Int64) -> QueryInterfaceRequest<GameSessionRecord> {
        GameSessionRecord.filter(Column("game_id") == game && Column("status") == SessionStatus.running.rawValue)
    }

    func runningSession(ofGame game: Int64) async throws -> GameSession? {
        try await database.writer.read { db in
            try Self.running(ofGame: game).order(Column("id").desc).fetchOne(db).flatMap { record in record.id.map(record.session(id:)) }
        }
    }

    func runningSessions(limit: Int) async throws -> [GameSession] {
        try await database.writer.read { db in
            try GameSessionRecord.filter(Column("status") == SessionStatus.running.rawValue).order(Column("id").desc).limit(limit)
                .fetchAll(db).compactMap { record in record.id.map(record.session(id:)) }
        }
    }

    func startSession(_ session: NewGameSession) async throws -> SessionStart {
        try await database.writer.write { db in
            var record = GameSessionRecord(session)
            do {
                try record.insert(db)
                let id = db.lastInsertedRowID
                // Read back, so that the answer is what every later read gives (dates as stored).
                return .started(try GameSessionRecord.fetchOne(db, key: id)?.session(id: id) ?? record.session(id: id))
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                // `game_sessions_one_running` (at most one running session per game) refused it:
                // another join started one first. SQLite undid only the failed insert.
                guard let running = try Self.running(ofGame: session.gameID).fetchOne(db), let id = running.id else { throw error }
                return .alreadyRunning(running.session(id: id))
            }
        }
    }

    func takeSeat(player: Int64, in session: GameSession, capacity: Int, maxConcurrentMatches: Int, at now: Date) async throws {
        // One write transaction: SQLite runs one at a time, so the counts below still hold when
        // the place is taken.
        try await database.writer.write { db in
            let active = PlayerGameSessionRecord.filter(Column("game_session_id") == session.id && Column("end_time") == nil)
            let alreadyIn = try active.filter(Column("player_id") == player).fetchCount(db) > 0
            if !alreadyIn {
                let elsewhere = try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM player_game_sessions p JOIN game_sessions s ON s.id = p.game_session_id
                        WHERE p.player_id = ? AND p.end_time IS NULL AND s.status = 'running' AND s.id <> ?
                        """, arguments: [player, session.id]) ?? 0
                guard elsewhere < maxConcurrentMatches else { throw StoreError.capReached(held: elsewhere) }
                guard try active.fetchCount(db) < capacity else { throw StoreError.matchFull }
                if var earlier = try PlayerGameSessionRecord.filter(Column("game_session_id") == session.id && Column("player_id") == player).fetchOne(db) {
                    earlier.endTime = nil  // rejoining after leaving
                    try earlier.update(db)
                } else {
                    var participation = PlayerGameSessionRecord(id: nil, playerID: player, gameSessionID: session.id, startTime: now)
                    try participation.insert(db)
                }
            }
            try GameMemberRecord(gameID: session.gameID, playerID: player, joinedAt: now).insert(db, onConflict: .ignore)
        }
    }

    func closeSession(matchID: UInt64, as status: SessionStatus, at now: Date) async throws -> Bool {
        try await database.writer.write { db in
            guard let id = try Int64.fetchOne(
                db, sql: "SELECT id FROM game_sessions WHERE match_id = ? AND status = 'running'", arguments: [Int64(bitPattern: matchID)])
            else { return false }
            try Self.close(sessionID: id, as: status, at: now, db)
            return true
        }
    }

    func closeRunningSessions(as status: SessionStatus, at now: Date) async throws -> Int {
        try await database.writer.write { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM game_sessions WHERE status = 'running'")
            for id in ids { try Self.close(sessionID: id, as: status, at: now, db) }
            return ids.count
        }
    }

    func closeOverdueSessions(now: Date, grace: TimeInterval) async throws -> Int {
        try await database.writer.write { db in
            // Measured by the session's own limit (fixed when it started), not the game's now; the
            // arithmetic is done here rather than in SQL, which no two databases write alike.
            let running = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.id, s.start_time, COALESCE(s.time_limit_seconds, g.time_limit_seconds) AS time_limit
                    FROM game_sessions s JOIN games g ON g.id = s.game_id WHERE s.status = 'running'
                    """)
            let overdue = running.filter { row in
                let start: Date = row["start_time"]
                let limit: Int = row["time_limit"]
                return start.addingTimeInterval(TimeInterval(limit) + grace) < now
            }
            for row in overdue { try Self.close(sessionID: row["id"], as: .timedOut, at: now, db) }
            return overdue.count
        }
    }

    private static func close(sessionID: Int64, as status: SessionStatus, at now: Date, _ db: Database) throws {
        try db.execute(sql: "UPDATE game_sessions SET status = ?, end_time = ? WHERE id = ?", arguments: [status.rawValue, now, sessionID])
        try db.execute(sql: "UPDATE player_game_sessions SET end_time = ? WHERE game_session_id = ? AND end_time IS NULL", arguments: [now, sessionID])
    }
}
