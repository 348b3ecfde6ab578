import Foundation
import PostgresNIO

/// ``AccountStore`` on the PostgreSQL database.
struct PostgresAccountStore: AccountStore {
    let database: PostgresDatabase
    private var logger: Logger { database.logger }

    private static let columns = "id, username, display_name, email, password_hash, created_at"

    private static func account(_ row: PostgresRow) throws -> Account {
        let (id, username, displayName, email, passwordHash, createdAt) = try row.decode((Int64, String, String, Data, String?, Date).self)
        return Account(id: id, username: username, displayName: displayName, sealedEmail: email, passwordHash: passwordHash, createdAt: createdAt)
    }

    func isEmailClaimed(_ claim: Data) async throws -> Bool {
        try await !database.rows("SELECT 1 FROM players WHERE email_hash = \(claim)").isEmpty
    }

    func createAccount(_ account: NewAccount, firstSession: SessionGrant) async throws -> Account {
        try await database.transaction { connection in
            // ON CONFLICT DO NOTHING (any unique key) waits for a racing insert of the same name,
            // claim or device to commit, then inserts nothing; which key it was is read from the
            // row holding it, committed and so visible to the next statement, not from an error's text.
            let inserted = try await connection.rows(
                """
                INSERT INTO players (username, display_name, email, email_hash, password_hash, created_at, device_hash)
                VALUES (\(account.username), \(account.displayName), \(account.sealedEmail), \(account.emailClaim), \(account.passwordHash),
                \(account.createdAt), \(account.deviceHash))
                ON CONFLICT DO NOTHING RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let row = inserted.first else {
                try await Self.throwDuplicate(
                    username: account.username, emailClaim: account.emailClaim, deviceHash: account.deviceHash, connection, logger: logger)
                throw PostgresStoreInconsistency(what: "an account insert conflicted with no username, email claim or device")
            }
            let created = try Self.account(row)
            try await connection.run("INSERT INTO player_statistics (player_id) VALUES (\(created.id))", logger: logger)
            _ = try await Self.insert(firstSession, for: created.id, connection, logger: logger)
            return created
        }
    }

    /// Throws the ``StoreError`` of the first of these keys that another account holds.
    private static func throwDuplicate(
        username: String, emailClaim: Data?, deviceHash: Data?, excluding player: Int64? = nil, _ connection: PostgresConnection, logger: Logger
    ) async throws {
        let name = try await connection.rows(
            "SELECT 1 FROM players WHERE lower(username) = lower(\(username)::text COLLATE \"C\") AND id IS DISTINCT FROM \(player)", logger: logger)
        if !name.isEmpty { throw StoreError.duplicateUsername }
        if let emailClaim {
            let claim = try await connection.rows("SELECT 1 FROM players WHERE email_hash = \(emailClaim) AND id IS DISTINCT FROM \(player)", logger: logger)
            if !claim.isEmpty { throw StoreError.duplicateEmail }
        }
        if let deviceHash {
            let device = try await connection.rows("SELECT 1 FROM players WHERE device_hash = \(deviceHash) AND id IS DISTINCT FROM \(player)", logger: logger)
            if !device.isEmpty { throw StoreError.duplicateDevice }
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

    func account(deviceHash: Data) async throws -> Account? {
        try await database.rows("SELECT \(unescaped: Self.columns) FROM players WHERE device_hash = \(deviceHash)").first.map(Self.account)
    }

    func usernames(of ids: [Int64]) async throws -> [Int64: String] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await database.rows("SELECT id, username FROM players WHERE id = ANY(\(ids))")
        return Dictionary(try rows.map { try $0.decode((Int64, String).self) }, uniquingKeysWith: { first, _ in first })
    }

    func setDisplayName(_ name: String, of player: Int64) async throws {
        _ = try await database.rows("UPDATE players SET display_name = \(name) WHERE id = \(player)")
    }

    func setCredentials(_ credentials: NewCredentials, of player: Int64) async throws -> Account {
        try await database.transaction { connection in
            // The account's row is locked first: of two racing upgrades, the second waits here
            // and then finds the password set.
            let locked = try await connection.rows(
                "SELECT password_hash IS NULL FROM players WHERE id = \(player) FOR NO KEY UPDATE", logger: logger)
            guard let row = locked.first else { throw StoreError.notFound(.player) }
            guard try row.decode(Bool.self) else { throw StoreError.passwordAlreadySet }
            // Keys other accounts hold already are told apart here, in SQLite's order; a racing
            // account taking one between this and the update is caught by the constraint it breaks.
            try await Self.throwDuplicate(
                username: credentials.username, emailClaim: credentials.emailClaim, deviceHash: nil, excluding: player, connection, logger: logger)
            let update: PostgresQuery
            if let sealed = credentials.sealedEmail, let claim = credentials.emailClaim {
                update = try """
                    UPDATE players SET username = \(credentials.username), password_hash = \(credentials.passwordHash), email = \(sealed),
                    email_hash = \(claim) WHERE id = \(player) RETURNING \(unescaped: Self.columns)
                    """
            } else {
                update = """
                    UPDATE players SET username = \(credentials.username), password_hash = \(credentials.passwordHash)
                    WHERE id = \(player) RETURNING \(unescaped: Self.columns)
                    """
            }
            let updated: [PostgresRow]
            do {
                updated = try await connection.rows(update, logger: logger)
            } catch let error as PSQLError where error.sqlState == Self.uniqueViolation {
                switch error.constraintName {
                case "players_username_key": throw StoreError.duplicateUsername
                case "players_email_hash_key": throw StoreError.duplicateEmail
                default: throw error
                }
            }
            guard let account = updated.first else { throw PostgresStoreInconsistency(what: "a locked account vanished") }
            return try Self.account(account)
        }
    }

    /// SQLSTATE unique_violation.
    private static let uniqueViolation = "23505"

    func openSession(_ session: SessionGrant, for player: Int64) async throws {
        try await database.transaction { connection in _ = try await Self.insert(session, for: player, connection, logger: logger) }
    }

    /// Inserts the session and, when it comes with a refresh token, a new family for both;
    /// returns the session's id.
    private static func insert(_ session: SessionGrant, for player: Int64, _ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        var family: Int64?
        if let refresh = session.refresh {
            let created = try await connection.rows(
                "INSERT INTO refresh_families (player_id, created_at) VALUES (\(player), \(session.createdAt)) RETURNING id", logger: logger)
            guard let id = try created.first?.decode(Int64.self) else { throw PostgresStoreInconsistency(what: "an insert returned no id") }
            try await insert(refresh, family: id, connection, logger: logger)
            family = id
        }
        return try await insert(session, for: player, family: family, connection, logger: logger)
    }

    private static func insert(
        _ session: SessionGrant, for player: Int64, family: Int64?, _ connection: PostgresConnection, logger: Logger
    ) async throws -> Int64 {
        let inserted = try await connection.rows(
            """
            INSERT INTO auth_sessions (player_id, token_hash, created_at, expires_at, family_id)
            VALUES (\(player), \(session.tokenHash), \(session.createdAt), \(session.expiresAt), \(family)) RETURNING id
            """, logger: logger)
        guard let id = try inserted.first?.decode(Int64.self) else { throw PostgresStoreInconsistency(what: "an insert returned no id") }
        return id
    }

    private static func insert(_ refresh: RefreshGrant, family: Int64, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.run(
            """
            INSERT INTO refresh_tokens (family_id, token_hash, created_at, expires_at)
            VALUES (\(family), \(refresh.tokenHash), \(refresh.createdAt), \(refresh.expiresAt))
            """, logger: logger)
    }

    func identity(forTokenHash hash: Data, at now: Date) async throws -> Identity? {
        let rows = try await database.rows(
            """
            SELECT s.id, s.expires_at, p.id, p.username FROM auth_sessions s JOIN players p ON p.id = s.player_id
            WHERE s.token_hash = \(hash) AND s.revoked_at IS NULL AND s.expires_at > \(now)
            """)
        return try rows.first.map { row in
            let (sessionID, expiresAt, playerID, username) = try row.decode((Int64, Date, Int64, String).self)
            return Identity(playerID: playerID, username: username, sessionID: sessionID, sessionExpiresAt: expiresAt)
        }
    }

    func deleteEndedSessions(before cutoff: Date, batch: Int) async throws -> (sessions: Int, families: Int) {
        let sessions = try await database.rows(
            """
            WITH deleted AS (
                DELETE FROM auth_sessions WHERE id IN (SELECT id FROM auth_sessions WHERE expires_at < \(cutoff) LIMIT \(batch))
                RETURNING 1)
            SELECT count(*) FROM deleted
            """)
        let families = try await database.rows(
            """
            WITH deleted AS (
                DELETE FROM refresh_families WHERE id IN (
                    SELECT id FROM refresh_families AS family
                    WHERE family.revoked_at < \(cutoff)
                        OR NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = family.id AND expires_at >= \(cutoff))
                    LIMIT \(batch))
                RETURNING 1)
            SELECT count(*) FROM deleted
            """)
        return (try sessions.first?.decode(Int.self) ?? 0, try families.first?.decode(Int.self) ?? 0)
    }

    func revokeSession(_ id: Int64, at now: Date) async throws {
        _ = try await database.rows("UPDATE auth_sessions SET revoked_at = \(now) WHERE id = \(id)")
    }

    func revokeSessionFamily(of id: Int64, at now: Date) async throws -> [Int64] {
        try await database.transaction { connection in
            let session = try await connection.rows("SELECT family_id FROM auth_sessions WHERE id = \(id)", logger: logger)
            guard let row = session.first else { return [] }
            let family = try row.decode(Int64?.self)
            // The family's row before its sessions', in the order a rotation locks them, so that
            // the two never wait on each other.
            if let family {
                try await connection.run("SELECT 1 FROM refresh_families WHERE id = \(family) FOR NO KEY UPDATE", logger: logger)
            }
            let ended = try await connection.rows(
                "UPDATE auth_sessions SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL RETURNING id", logger: logger)
            var revoked = ended.isEmpty ? [] : [id]
            if let family { revoked += try await Self.revokeFamily(family, at: now, connection, logger: logger) }
            return revoked
        }
    }

    /// Revokes the family and its live sessions; returns those sessions.
    private static func revokeFamily(_ family: Int64, at now: Date, _ connection: PostgresConnection, logger: Logger) async throws -> [Int64] {
        try await connection.run("UPDATE refresh_families SET revoked_at = \(now) WHERE id = \(family) AND revoked_at IS NULL", logger: logger)
        return try await endSessions(of: family, at: now, connection, logger: logger)
    }

    /// Revokes the family's live sessions; returns them.
    private static func endSessions(of family: Int64, at now: Date, _ connection: PostgresConnection, logger: Logger) async throws -> [Int64] {
        try await connection.rows(
            "UPDATE auth_sessions SET revoked_at = \(now) WHERE family_id = \(family) AND revoked_at IS NULL RETURNING id", logger: logger
        ).map { try $0.decode(Int64.self) }.sorted()
    }

    func rotateRefreshToken(_ hash: Data, next: SessionGrant, nextRefresh: RefreshGrant, at now: Date) async throws -> RefreshRotation {
        try await database.transaction { connection -> RefreshRotation in
            // The token's row is locked (and its family's): of two presentations of one token, the
            // second waits here until the first commits, then reads the token as used (READ
            // COMMITTED re-reads a locked row once its locker is done) and so is reuse.
            let rows = try await connection.rows(
                """
                SELECT t.id, t.family_id, t.expires_at, t.used_at, f.player_id, f.revoked_at, p.username
                FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id JOIN players p ON p.id = f.player_id
                WHERE t.token_hash = \(hash)
                FOR UPDATE OF t FOR NO KEY UPDATE OF f
                """, logger: logger)
            guard let row = rows.first else { return .invalid }
            let (tokenID, family, expiresAt, usedAt, playerID, familyRevokedAt, username) = try row.decode(
                (Int64, Int64, Date, Date?, Int64, Date?, String).self)
            guard familyRevokedAt == nil else { return .invalid }
            if usedAt != nil {
                return .reused(revoked: try await Self.revokeFamily(family, at: now, connection, logger: logger))
            }
            guard expiresAt > now else { return .expired }
            try await connection.run("UPDATE refresh_tokens SET used_at = \(now) WHERE id = \(tokenID)", logger: logger)
            // Used tokens are kept for reuse detection only while they could have been presented
            // (every expired token of a family being rotated is a used one); the index on
            // (family_id, expires_at) makes this touch only those.
            try await connection.run("DELETE FROM refresh_tokens WHERE family_id = \(family) AND expires_at <= \(now)", logger: logger)
            let ended = try await Self.endSessions(of: family, at: now, connection, logger: logger)
            try await Self.insert(nextRefresh, family: family, connection, logger: logger)
            let sessionID = try await Self.insert(next, for: playerID, family: family, connection, logger: logger)
            let identity = Identity(playerID: playerID, username: username, sessionID: sessionID, sessionExpiresAt: next.expiresAt)
            return .rotated(identity, ended: ended)
        }
    }
}
