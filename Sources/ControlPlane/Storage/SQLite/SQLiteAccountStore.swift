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
                emailHash: account.emailClaim, passwordHash: account.passwordHash, createdAt: account.createdAt)
            do {
                try player.insert(db)
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                // Which unique key refused it is read from the row holding that key, in this same
                // transaction (SQLite undid only the failed statement), not from the error's text.
                if try PlayerRecord.filter(Column("username") == account.username).fetchCount(db) > 0 { throw StoreError.duplicateUsername }
                if try PlayerRecord.filter(Column("email_hash") == account.emailClaim).fetchCount(db) > 0 { throw StoreError.duplicateEmail }
                throw error
            }
            let id = db.lastInsertedRowID
            try PlayerStatisticsRecord(playerID: id).insert(db)
            try Self.insert(firstSession, for: id, db)
            // Read back, so that the answer is what every later read gives (dates as stored).
            return try PlayerRecord.fetchOne(db, key: id)?.account(id: id) ?? player.account(id: id)
        }
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

    func openSession(_ session: SessionGrant, for player: Int64) async throws {
        try await database.writer.write { db in try Self.insert(session, for: player, db) }
    }

    private static func insert(_ session: SessionGrant, for player: Int64, _ db: Database) throws {
        var record = AuthSessionRecord(
            id: nil, playerID: player, tokenHash: session.tokenHash, createdAt: session.createdAt, expiresAt: session.expiresAt, revokedAt: nil)
        try record.insert(db)
    }

    func identity(forTokenHash hash: Data, at now: Date) async throws -> Identity? {
        try await database.writer.read { db -> Identity? in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT s.id AS session_id, p.id AS player_id, p.username AS username
                    FROM auth_sessions s JOIN players p ON p.id = s.player_id
                    WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ?
                    """, arguments: [hash, now])
            guard let row else { return nil }
            return Identity(playerID: row["player_id"], username: row["username"], sessionID: row["session_id"])
        }
    }

    func revokeSession(_ id: Int64, at now: Date) async throws {
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE auth_sessions SET revoked_at = ? WHERE id = ?", arguments: [now, id])
        }
    }
}
