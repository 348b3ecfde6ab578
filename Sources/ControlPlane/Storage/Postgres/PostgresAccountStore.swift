import Foundation
import PostgresNIO

/// ``AccountStore`` on the PostgreSQL database.
struct PostgresAccountStore: AccountStore {
    let database: PostgresDatabase
    private var logger: Logger { database.logger }

    private static let columns = "id, username, display_name, email, password_hash, created_at"

    private static func account(_ row: PostgresRow) throws -> Account {
        let (id, username, displayName, email, passwordHash, createdAt) = try row.decode((Int64, String, String, Data, String, Date).self)
        return Account(id: id, username: username, displayName: displayName, sealedEmail: email, passwordHash: passwordHash, createdAt: createdAt)
    }

    func isEmailClaimed(_ claim: Data) async throws -> Bool {
        try await !database.rows("SELECT 1 FROM players WHERE email_hash = \(claim)").isEmpty
    }

    func createAccount(_ account: NewAccount, firstSession: SessionGrant) async throws -> Account {
        try await database.transaction { connection in
            // ON CONFLICT DO NOTHING (any unique key) waits for a racing insert of the same name
            // or claim to commit, then inserts nothing; which key it was is read from the row
            // holding it, committed and so visible to the next statement, not from an error's text.
            let inserted = try await connection.rows(
                """
                INSERT INTO players (username, display_name, email, email_hash, password_hash, created_at)
                VALUES (\(account.username), \(account.displayName), \(account.sealedEmail), \(account.emailClaim), \(account.passwordHash),
                \(account.createdAt))
                ON CONFLICT DO NOTHING RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let row = inserted.first else {
                let name = try await connection.rows(
                    "SELECT 1 FROM players WHERE lower(username) = lower(\(account.username)::text COLLATE \"C\")", logger: logger)
                if !name.isEmpty { throw StoreError.duplicateUsername }
                let claim = try await connection.rows("SELECT 1 FROM players WHERE email_hash = \(account.emailClaim)", logger: logger)
                if !claim.isEmpty { throw StoreError.duplicateEmail }
                throw PostgresStoreInconsistency(what: "an account insert conflicted with no username or email claim")
            }
            let created = try Self.account(row)
            try await connection.run("INSERT INTO player_statistics (player_id) VALUES (\(created.id))", logger: logger)
            try await Self.insert(firstSession, for: created.id, connection, logger: logger)
            return created
        }
    }

    func account(named username: String) async throws -> Account? {
        // The column is COLLATE "C": lower() folds ASCII only, as SQLite's NOCASE does.
        try await database.rows(
            "SELECT \(unescaped: Self.columns) FROM players WHERE lower(username) = lower(\(username)::text COLLATE \"C\")"
        ).first.map(Self.account)
    }

    func account(id: Int64) async throws -> Account? {
        try await database.rows("SELECT \(unescaped: Self.columns) FROM players WHERE id = \(id)").first.map(Self.account)
    }

    func usernames(of ids: [Int64]) async throws -> [Int64: String] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await database.rows("SELECT id, username FROM players WHERE id = ANY(\(ids))")
        return Dictionary(try rows.map { try $0.decode((Int64, String).self) }, uniquingKeysWith: { first, _ in first })
    }

    func setDisplayName(_ name: String, of player: Int64) async throws {
        _ = try await database.rows("UPDATE players SET display_name = \(name) WHERE id = \(player)")
    }

    func openSession(_ session: SessionGrant, for player: Int64) async throws {
        try await database.transaction { connection in try await Self.insert(session, for: player, connection, logger: logger) }
    }

    private static func insert(_ session: SessionGrant, for player: Int64, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.run(
            """
            INSERT INTO auth_sessions (player_id, token_hash, created_at, expires_at)
            VALUES (\(player), \(session.tokenHash), \(session.createdAt), \(session.expiresAt))
            """, logger: logger)
    }

    func identity(forTokenHash hash: Data, at now: Date) async throws -> Identity? {
        let rows = try await database.rows(
            """
            SELECT s.id, p.id, p.username FROM auth_sessions s JOIN players p ON p.id = s.player_id
            WHERE s.token_hash = \(hash) AND s.revoked_at IS NULL AND s.expires_at > \(now)
            """)
        return try rows.first.map { row in
            let (sessionID, playerID, username) = try row.decode((Int64, Int64, String).self)
            return Identity(playerID: playerID, username: username, sessionID: sessionID)
        }
    }

    func revokeSession(_ id: Int64, at now: Date) async throws {
        _ = try await database.rows("UPDATE auth_sessions SET revoked_at = \(now) WHERE id = \(id)")
    }
}
