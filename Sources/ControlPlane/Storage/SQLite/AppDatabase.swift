import Foundation
import GRDB

/// The control port's database: one SQLite file (WAL) in production, memory in tests, with the
/// same migrations either way. Every query goes through GRDB with bound arguments.
public struct AppDatabase: Sendable {
    public let writer: any DatabaseWriter
    /// The writer for the small write transactions many callers make at once (refresh-token
    /// rotations): batched into one transaction (``GroupCommit``).
    public let groupCommit: GroupCommit

    /// Opens (creating if needed) and migrates.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        groupCommit = GroupCommit(writer: writer)
        try Self.migrator.migrate(writer)
    }

    /// When a commit is on disk. Either way the file is never corrupted; they differ in what a
    /// power loss or an operating-system crash (not a crash of this process) may roll back.
    public enum Sync: String, Sendable, CaseIterable {
        /// WAL with `synchronous = NORMAL` (GRDB's setting for a pool): the write-ahead log is
        /// synced at checkpoints, not at every commit, so a power loss may undo the last commits.
        case normal
        /// `synchronous = FULL`: every commit is synced before it returns.
        case full
    }

    /// A database file at `path` (WAL, foreign keys on).
    public static func file(at path: String, sync: Sync = .normal) throws -> AppDatabase {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: configuration)
        // On the pool's one writer connection, after the pool has set up WAL (which sets NORMAL).
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: sync == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
        }
        return try AppDatabase(pool)
    }

    /// A private in-memory database, for tests.
    public static func inMemory() throws -> AppDatabase {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        return try AppDatabase(DatabaseQueue(configuration: configuration))
    }

    /// Named, append-only migrations. Never edit a shipped one: add another.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-accounts") { db in
            try db.create(table: "players") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("username", .text).notNull().unique().collate(.nocase)
                t.column("display_name", .text).notNull()
                // The address sealed with the data directory's key; `email_hash` (keyed BLAKE2b)
                // enforces uniqueness without storing it readable.
                t.column("email", .blob).notNull()
                t.column("email_hash", .blob).notNull().unique()
                t.column("password_hash", .text).notNull()
                t.column("created_at", .datetime).notNull()
                t.check(sql: "length(username) BETWEEN 3 AND 32")
            }
            try db.create(table: "auth_sessions") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("player_id", .integer).notNull().indexed().references("players", onDelete: .cascade)
                t.column("token_hash", .blob).notNull().unique()
                t.column("created_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
                t.column("revoked_at", .datetime)
            }
            try db.create(table: "friendships") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("requester_id", .integer).notNull().indexed().references("players", onDelete: .cascade)
                t.column("addressee_id", .integer).notNull().indexed().references("players", onDelete: .cascade)
                t.column("status", .text).notNull().check { ["pending", "accepted"].contains($0) }
                t.column("created_at", .datetime).notNull()
                t.uniqueKey(["requester_id", "addressee_id"])
                t.check(sql: "requester_id <> addressee_id")
            }
        }
        migrator.registerMigration("v1-games") { db in
            try db.create(table: "games") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull()
                t.column("description", .text).notNull()
                t.column("created_by", .integer).notNull().indexed().references("players", onDelete: .cascade)
                t.column("mode", .text).notNull()
                t.column("max_players", .integer).notNull().check { $0 >= 2 && $0 <= 64 }
                t.column("tick_rate", .integer).notNull().check { $0 >= 10 && $0 <= 240 }
                t.column("score_limit", .integer).notNull().check { $0 >= 1 }
                t.column("time_limit_seconds", .integer).notNull().check { $0 >= 10 }
                t.column("visibility", .text).notNull().check { ["public", "private"].contains($0) }
                t.column("status", .text).notNull().check { ["open", "closed"].contains($0) }
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "games_open_public", on: "games", columns: ["status", "visibility", "id"])
            try db.create(table: "game_members") { t in
                t.column("game_id", .integer).notNull().indexed().references("games", onDelete: .cascade)
                t.column("player_id", .integer).notNull().indexed().references("players", onDelete: .cascade)
                t.column("joined_at", .datetime).notNull()
                t.primaryKey(["game_id", "player_id"])
            }
            try db.create(table: "invites") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("game_id", .integer).notNull().indexed().references("games", onDelete: .cascade)
                t.column("inviter_id", .integer).notNull().indexed().references("players", onDelete: .cascade)
                t.column("invitee_id", .integer).notNull().indexed().references("players", onDelete: .cascade)
                t.column("status", .text).notNull().check { ["pending", "accepted", "declined"].contains($0) }
                t.column("created_at", .datetime).notNull()
                t.uniqueKey(["game_id", "invitee_id"])
            }
            try db.create(table: "game_sessions") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("game_id", .integer).notNull().indexed().references("games", onDelete: .cascade)
                t.column("match_id", .integer).notNull().unique()
                t.column("server_address", .text).notNull()
                t.column("start_time", .datetime).notNull()
                t.column("end_time", .datetime)
                t.column("status", .text).notNull().check { ["running", "finished", "timed_out"].contains($0) }
            }
            try db.create(table: "player_game_sessions") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("player_id", .integer).notNull().indexed().references("players", onDelete: .cascade)
                t.column("game_session_id", .integer).notNull().indexed().references("game_sessions", onDelete: .cascade)
                t.column("start_time", .datetime).notNull()
                t.column("end_time", .datetime)
                t.column("score", .integer)
                t.column("kills", .integer)
                t.column("deaths", .integer)
                t.column("placement", .integer)
                t.column("time_played_seconds", .double)
                t.uniqueKey(["player_id", "game_session_id"])
            }
        }
        migrator.registerMigration("v1-boards-stats-chat") { db in
            try db.create(table: "leaderboards") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("key", .text).notNull().unique()
                t.column("operator", .text).notNull().check { ["best", "sum", "latest"].contains($0) }
            }
            try db.create(table: "leaderboard_entries") { t in
                t.column("leaderboard_id", .integer).notNull().indexed().references("leaderboards", onDelete: .cascade)
                t.column("player_id", .integer).notNull().indexed().references("players", onDelete: .cascade)
                t.column("score", .integer).notNull()
                t.column("updated_at", .datetime).notNull()
                t.primaryKey(["leaderboard_id", "player_id"])
            }
            try db.create(index: "leaderboard_entries_rank", on: "leaderboard_entries", columns: ["leaderboard_id", "score", "player_id"])
            try db.create(table: "player_statistics") { t in
                t.primaryKey("player_id", .integer).references("players", onDelete: .cascade)
                t.column("games_played", .integer).notNull().defaults(to: 0)
                t.column("wins", .integer).notNull().defaults(to: 0)
                t.column("kills", .integer).notNull().defaults(to: 0)
                t.column("deaths", .integer).notNull().defaults(to: 0)
                t.column("total_score", .integer).notNull().defaults(to: 0)
                t.column("best_score", .integer).notNull().defaults(to: 0)
                t.column("time_played_seconds", .double).notNull().defaults(to: 0)
            }
            try db.create(table: "chat_messages") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("channel", .text).notNull()
                t.column("sender_id", .integer).notNull().indexed().references("players", onDelete: .cascade)
                t.column("body", .text).notNull()
                t.column("created_at", .datetime).notNull()
            }
            try db.create(index: "chat_messages_channel", on: "chat_messages", columns: ["channel", "id"])
            try db.execute(sql: "INSERT INTO leaderboards (key, operator) VALUES ('global', 'sum')")
        }
        migrator.registerMigration("v2-game-map") { db in
            try db.alter(table: "games") { t in
                t.add(column: "map", .text).notNull().defaults(to: "default")
            }
        }
        migrator.registerMigration("v3-session-recovery") { db in
            // SQLite cannot change a CHECK constraint in place: the table is rebuilt (GRDB runs
            // migrations with foreign keys off, so nothing cascades) to allow 'abandoned' (a
            // match its server lost: crash, shutdown, no one connected) and to keep each
            // session's own time limit, so that editing the game does not end a running match.
            try db.create(table: "game_sessions_v3") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("game_id", .integer).notNull().indexed().references("games", onDelete: .cascade)
                t.column("match_id", .integer).notNull().unique()
                t.column("server_address", .text).notNull()
                t.column("start_time", .datetime).notNull()
                t.column("end_time", .datetime)
                t.column("status", .text).notNull().check { ["running", "finished", "timed_out", "abandoned"].contains($0) }
                t.column("time_limit_seconds", .integer)
            }
            try db.execute(sql: """
                INSERT INTO game_sessions_v3 (id, game_id, match_id, server_address, start_time, end_time, status, time_limit_seconds)
                SELECT s.id, s.game_id, s.match_id, s.server_address, s.start_time, s.end_time, s.status, g.time_limit_seconds
                FROM game_sessions s LEFT JOIN games g ON g.id = s.game_id
                """)
            try db.drop(table: "game_sessions")
            try db.rename(table: "game_sessions_v3", to: "game_sessions")
            try db.create(index: "game_sessions_running", on: "game_sessions", columns: ["status", "game_id"])
        }
        migrator.registerMigration("v4-one-running-session-per-game") { db in
            // At most one session of a game runs: held by this index, not by the join reading
            // first (two joins that both read "none runs" would both start one under READ
            // COMMITTED). Should an older database hold several, the newest stays running and
            // the others are closed as abandoned first, as a restart would have closed them.
            let now = Date()
            let surplus = """
                SELECT id FROM game_sessions s WHERE status = 'running'
                AND EXISTS (SELECT 1 FROM game_sessions n WHERE n.game_id = s.game_id AND n.status = 'running' AND n.id > s.id)
                """
            try db.execute(
                sql: "UPDATE player_game_sessions SET end_time = ? WHERE end_time IS NULL AND game_session_id IN (\(surplus))", arguments: [now])
            try db.execute(sql: "UPDATE game_sessions SET status = 'abandoned', end_time = ? WHERE id IN (\(surplus))", arguments: [now])
            try db.execute(sql: "CREATE UNIQUE INDEX game_sessions_one_running ON game_sessions (game_id) WHERE status = 'running'")
        }
        migrator.registerMigration("v5-refresh-tokens-and-devices") { db in
            // One family per login; each rotation adds a token to it and marks the previous one
            // used. A used token presented again revokes the family.
            try db.create(table: "refresh_families") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("player_id", .integer).notNull().indexed().references("players", onDelete: .cascade)
                t.column("created_at", .datetime).notNull()
                t.column("revoked_at", .datetime)
            }
            try db.create(table: "refresh_tokens") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("family_id", .integer).notNull().references("refresh_families", onDelete: .cascade)
                t.column("token_hash", .blob).notNull().unique()
                t.column("created_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
                t.column("used_at", .datetime)
            }
            // A rotation prunes its family's expired tokens through this.
            try db.create(index: "refresh_tokens_family_expiry", on: "refresh_tokens", columns: ["family_id", "expires_at"])
            // NULL for sessions opened without a refresh token (before this migration, or by the
            // access-token exchange).
            try db.alter(table: "auth_sessions") { t in
                t.add(column: "family_id", .integer).references("refresh_families", onDelete: .cascade)
            }
            // (family, revoked_at): ending a family's live sessions seeks to exactly those, however
            // many sessions its rotations have ended before.
            try db.create(index: "auth_sessions_family", on: "auth_sessions", columns: ["family_id", "revoked_at"])
            // A device account's device id, as its keyed hash (SQLite cannot add a UNIQUE column:
            // the unique index holds it; NULLs are distinct). A password-less account keeps
            // `password_hash` NOT NULL as '' (no Argon2id string is empty), read back as nil.
            try db.alter(table: "players") { t in
                t.add(column: "device_hash", .blob)
            }
            try db.create(index: "players_device_hash", on: "players", columns: ["device_hash"], unique: true)
        }
        migrator.registerMigration("v6-session-expiry-index") { db in
            // The session janitor deletes by expiry, a batch at a time.
            try db.create(index: "auth_sessions_expires_at", on: "auth_sessions", columns: ["expires_at"])
        }
        return migrator
    }
}
