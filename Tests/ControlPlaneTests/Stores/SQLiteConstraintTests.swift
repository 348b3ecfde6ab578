@testable import ControlPlane
import Foundation
import GRDB
import Testing

/// What the SQLite schema itself holds, beneath the stores.
@Suite struct SQLiteConstraintTests {
    @Test(arguments: AppDatabase.Sync.allCases) func theFileSyncsAsAsked(_ sync: AppDatabase.Sync) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-sync-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = try AppDatabase.file(at: folder.appendingPathComponent("arbiter.sqlite").path, sync: sync)
        // SQLite's codes: 1 NORMAL, 2 FULL; in WAL mode.
        let (level, journal) = try database.writer.write { db in
            (try Int.fetchOne(db, sql: "PRAGMA synchronous"), try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        #expect(level == (sync == .full ? 2 : 1))
        #expect(journal == "wal")
    }

    static func insertGame(_ db: Database) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO players (username, display_name, email, email_hash, password_hash, created_at)
            VALUES ('owner', 'Owner', x'00', x'01', 'x', ?)
            """, arguments: [Date()])
        try db.execute(sql: """
            INSERT INTO games (name, description, created_by, mode, max_players, tick_rate, score_limit, time_limit_seconds, visibility, status, created_at)
            VALUES ('g', '', ?, 'arena', 4, 60, 20, 600, 'public', 'open', ?)
            """, arguments: [db.lastInsertedRowID, Date()])
        return db.lastInsertedRowID
    }

    static func insertRunningSession(game: Int64, matchID: Int64, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO game_sessions (game_id, match_id, server_address, start_time, status) VALUES (?, ?, '127.0.0.1:1', ?, 'running')",
            arguments: [game, matchID, Date()])
    }

    @Test func aSecondRunningSessionOfAGameIsRefusedByTheIndex() async throws {
        let database = try AppDatabase.inMemory()
        try await database.writer.write { db in
            let game = try Self.insertGame(db)
            try Self.insertRunningSession(game: game, matchID: 1, db)
            do {
                try Self.insertRunningSession(game: game, matchID: 2, db)
                Issue.record("a second running session was stored")
            } catch let error as DatabaseError {
                #expect(error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE)
            }
            // Ended sessions do not count.
            try db.execute(sql: "UPDATE game_sessions SET status = 'finished' WHERE match_id = 1")
            try Self.insertRunningSession(game: game, matchID: 2, db)
            try db.execute(
                sql: "INSERT INTO game_sessions (game_id, match_id, server_address, start_time, status) VALUES (?, 3, '127.0.0.1:1', ?, 'abandoned')",
                arguments: [game, Date()])
        }
    }

    @Test func theMigrationClosesSurplusRunningSessionsOfAnOlderDatabase() throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue, upTo: "v3-session-recovery")
        try queue.write { db in
            let game = try Self.insertGame(db)
            for matchID in Int64(1)...3 { try Self.insertRunningSession(game: game, matchID: matchID, db) }
            try db.execute(
                sql: "INSERT INTO player_game_sessions (player_id, game_session_id, start_time) SELECT 1, id, start_time FROM game_sessions")
        }
        _ = try AppDatabase(queue)
        let statuses = try queue.read { db in try String.fetchAll(db, sql: "SELECT status FROM game_sessions ORDER BY match_id") }
        #expect(statuses == ["abandoned", "abandoned", "running"])
        let open = try queue.read { db in
            try Int64.fetchAll(
                db, sql: "SELECT s.match_id FROM player_game_sessions p JOIN game_sessions s ON s.id = p.game_session_id WHERE p.end_time IS NULL")
        }
        #expect(open == [3])
    }
}
