import Foundation
import GRDB

/// ``AccountStore`` on the SQLite database.
struct SQLiteAccountStore: AccountStore {
    let database: AppDatabase

    func isEmailClaimed(_ claim: Data) async throws -> Bool {
        try await database.writer.read { db in try PlayerRecord.filter(Column("email_hash") == claim).fetchCount(db) > 0 }
    }

    func createAccount(_ account: NewAccount, firstSession: SessionGrant) async throws -> Account {
        try await database.writer.write { db in
            var player = PlayerRecord(
                id: nil, username: account.username, displayName: account.displayName, email: account.sealedEmail,
                emailHash: account.emailClaim, passwordHash: account.passwordHash ?? "", createdAt: account.createdAt,
                deviceHash: account.deviceHash)
            do {
                try player.insert(db)
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                // Which unique key refused it is read from the row holding that key, in this same
                // transaction (SQLite undid only the failed statement), not from the error's text.
                try Self.throwDuplicate(username: account.username, emailClaim: account.emailClaim, deviceHash: account.deviceHash, db)
                throw error
            }
            let id = db.lastInsertedRowID
            try PlayerStatisticsRecord(playerID: id).insert(db)
            try Self.insert(firstSession, for: id, db)
            // Read back, so that the answer is what every later read gives (dates as stored).
            return try PlayerRecord.fetchOne(db, key: id)?.account(id: id) ?? player.account(id: id)
        }
    }

    /// Throws the ``StoreError`` of the first of these keys that another row holds.
    private static func throwDuplicate(username: String, emailClaim: Data?, deviceHash: Data?, excluding player: Int64? = nil, _ db: Database) throws {
        func held(_ column: String, _ value: some DatabaseValueConvertible) throws -> Bool {
            var request = PlayerRecord.filter(Column(column) == value)
            if let player { request = request.filter(Column("id") != player) }
            return try request.fetchCount(db) > 0
        }
        if try held("username", username) { throw StoreError.duplicateUsername }
        if let emailClaim, try held("email_hash", emailClaim) { throw StoreError.duplicateEmail }
        if let deviceHash, try held("device_hash", deviceHash) { throw StoreError.duplicateDevice }
    }

    func account(named username: String) async throws -> Account? {
        // The column is COLLATE NOCASE: the comparison ignores case.
        try await database.writer.read { db in
            try PlayerRecord.filter(Column("username") == username).fetchOne(db).flatMap { record in record.id.map(record.account(id:)) }
        }
    }

    func account(id: Int64) async throws -> Account? {
        try await database.writer.read { db in try PlayerRecord.fetchOne(db, key: id)?.account(id: id) }
    }

    func account(deviceHash: Data) async throws -> Account? {
        try await database.writer.read { db in
            try PlayerRecord.filter(Column("device_hash") == deviceHash).fetchOne(db).flatMap { record in record.id.map(record.account(id:)) }
        }
    }

    func usernames(of ids: [Int64]) async throws -> [Int64: String] {
        guard !ids.isEmpty else { return [:] }
        return try await database.writer.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT id, username FROM players WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ",")))",
                arguments: StatementArguments(ids))
            return Dictionary(rows.map { ($0["id"], $0["username"]) }, uniquingKeysWith: { first, _ in first })
        }
    }

    func setDisplayName(_ name: String, of player: Int64) async throws {
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE players SET display_name = ? WHERE id = ?", arguments: [name, player])
        }
    }

    func setCredentials(_ credentials: NewCredentials, of player: Int64) async throws -> Account {
        try await database.writer.write { db in
            let changed: Int
            do {
                if let sealed = credentials.sealedEmail, let claim = credentials.emailClaim {
                    try db.execute(
                        sql: "UPDATE players SET username = ?, password_hash = ?, email = ?, email_hash = ? WHERE id = ? AND password_hash = ''",
                        arguments: [credentials.username, credentials.passwordHash, sealed, claim, player])
                } else {
                    try db.execute(
                        sql: "UPDATE players SET username = ?, password_hash = ? WHERE id = ? AND password_hash = ''",
                        arguments: [credentials.username, credentials.passwordHash, player])
                }
                changed = db.changesCount
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                try Self.throwDuplicate(
                    username: credentials.username, emailClaim: credentials.emailClaim, deviceHash: nil, excluding: player, db)
                throw error
            }
            guard let record = try PlayerRecord.fetchOne(db, key: player) else { throw StoreError.notFound(.player) }
            guard changed == 1 else { throw StoreError.passwordAlreadySet }
            return record.account(id: player)
        }
    }

    func openSession(_ session: SessionGrant, for player: Int64) async throws {
        try await database.writer.write { db in try Self.insert(session, for: player, db) }
    }

    /// Inserts the session and, when it comes with a refresh token, a new family for both.
    private static func insert(_ session: SessionGrant, for player: Int64, _ db: Database) throws {
        var family: Int64?
        if let refresh = session.refresh {
            try db.execute(sql: "INSERT INTO refresh_families (player_id, created_at) VALUES (?, ?)", arguments: [player, session.createdAt])
            family = db.lastInsertedRowID
            try insert(refresh, family: db.lastInsertedRowID, db)
        }
        try insert(session, for: player, family: family, db)
    }

    private static func insert(_ session: SessionGrant, for player: Int64, family: Int64?, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO auth_sessions (player_id, token_hash, created_at, expires_at, family_id) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [player, session.tokenHash, StoredDate(session.createdAt), StoredDate(session.expiresAt), family])
    }

    private static func insert(_ refresh: RefreshGrant, family: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO refresh_tokens (family_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .execute(arguments: [family, refresh.tokenHash, StoredDate(refresh.createdAt), StoredDate(refresh.expiresAt)])
    }

    func identity(forTokenHash hash: Data, at now: Date) async throws -> Identity? {
        try await database.writer.read { db -> Identity? in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT s.id AS session_id, s.expires_at AS expires_at, p.id AS player_id, p.username AS username
                    FROM auth_sessions s JOIN players p ON p.id = s.player_id
                    WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ?
                    """, arguments: [hash, now])
            guard let row else { return nil }
            return Identity(playerID: row["player_id"], username: row["username"], sessionID: row["session_id"], sessionExpiresAt: row["expires_at"])
        }
    }

    func deleteEndedSessions(before cutoff: Date, batch: Int) async throws -> (sessions: Int, families: Int) {
        try await database.writer.write { db in
            try db.execute(
                sql: "DELETE FROM auth_sessions WHERE id IN (SELECT id FROM auth_sessions WHERE expires_at < ? LIMIT ?)",
                arguments: [cutoff, batch])
            let sessions = db.changesCount
            try db.execute(
                sql: """
                    DELETE FROM refresh_families WHERE id IN (
                        SELECT id FROM refresh_families AS family
                        WHERE family.revoked_at < ?
                            OR NOT EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = family.id AND expires_at >= ?)
                        LIMIT ?)
                    """,
                arguments: [cutoff, cutoff, batch])
            return (sessions, db.changesCount)
        }
    }

    func revokeSession(_ id: Int64, at now: Date) async throws {
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE auth_sessions SET revoked_at = ? WHERE id = ?", arguments: [now, id])
        }
    }

    func revokeSessionFamily(of id: Int64, at now: Date) async throws -> [Int64] {
        try await database.writer.write { db in
            let wasLive = try Bool.fetchOne(db, sql: "SELECT revoked_at IS NULL FROM auth_sessions WHERE id = ?", arguments: [id]) ?? false
            try db.execute(sql: "UPDATE auth_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [now, id])
            var revoked = wasLive ? [id] : []
            if let family = try Int64.fetchOne(db, sql: "SELECT family_id FROM auth_sessions WHERE id = ?", arguments: [id]) {
                revoked += try Self.revokeFamily(family, at: now, db)
            }
            return revoked
        }
    }

    /// Revokes the family and its live sessions; returns those sessions.
    private static func revokeFamily(_ family: Int64, at now: Date, _ db: Database) throws -> [Int64] {
        try db.cachedStatement(sql: "UPDATE refresh_families SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .execute(arguments: [StoredDate(now), family])
        return try endSessions(of: family, at: now, db)
    }

    /// Revokes the family's live sessions; returns them.
    private static func endSessions(of family: Int64, at now: Date, _ db: Database) throws -> [Int64] {
        try Int64.fetchAll(
            db.cachedStatement(sql: "UPDATE auth_sessions SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL RETURNING id"),
            arguments: [StoredDate(now), family]
        ).sorted()
    }

    /// Batched with the rotations of other clients (``GroupCommit``): a login storm's resumes
    /// share transactions.
    func rotateRefreshToken(_ hash: Data, next: SessionGrant, nextRefresh: RefreshGrant, at now: Date) async throws -> RefreshRotation {
        try await database.groupCommit.write { db -> RefreshRotation in
            // The hot path of a login storm: every statement is prepared once per connection.
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT t.id AS token_id, t.family_id AS family_id, t.expires_at AS expires_at, t.used_at AS used_at,
                            f.player_id AS player_id, f.revoked_at AS family_revoked_at, p.username AS username
                        FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id JOIN players p ON p.id = f.player_id
                        WHERE t.token_hash = ?
                        """), arguments: [hash])
            guard let row, (row["family_revoked_at"] as Date?) == nil else { return .invalid }
            let family: Int64 = row["family_id"]
            if (row["used_at"] as Date?) != nil {
                return .reused(revoked: try Self.revokeFamily(family, at: now, db))
            }
            guard (row["expires_at"] as Date) > now else { return .expired }
            let tokenID: Int64 = row["token_id"]
            let playerID: Int64 = row["player_id"]
            try db.cachedStatement(sql: "UPDATE refresh_tokens SET used_at = ? WHERE id = ?").execute(arguments: [StoredDate(now), tokenID])
            // Used tokens are kept for reuse detection only while they could have been presented
            // (every expired token of a family being rotated is a used one); the index on
            // (family_id, expires_at) makes this touch only those.
            try db.cachedStatement(sql: "DELETE FROM refresh_tokens WHERE family_id = ? AND expires_at <= ?").execute(arguments: [family, StoredDate(now)])
            let ended = try Self.endSessions(of: family, at: now, db)
            try Self.insert(nextRefresh, family: family, db)
            try Self.insert(next, for: playerID, family: family, db)
            let identity = Identity(
                playerID: playerID, username: row["username"], sessionID: db.lastInsertedRowID, sessionExpiresAt: next.expiresAt)
            return .rotated(identity, ended: ended)
        }
    }
}
