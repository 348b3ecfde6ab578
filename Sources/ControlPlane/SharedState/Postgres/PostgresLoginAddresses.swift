import Foundation
import PostgresNIO

/// ``KnownLoginAddresses`` shared by every control port on one PostgreSQL database (the
/// `login_addresses` table), bounded as ``RecentLoginAddresses`` is: the newest ``perAccount``
/// addresses of each account. Only a successful login or a registration inserts, so the table
/// holds at most that many rows per real account.
///
/// A failed read answers "not known" (the address then meets the per-account limit, which is
/// the safe side); a failed write is logged.
struct PostgresLoginAddresses: KnownLoginAddresses {
    let database: PostgresDatabase
    let perAccount: Int
    private var logger: Logger { database.logger }

    init(database: PostgresDatabase, perAccount: Int = 8) {
        self.database = database
        self.perAccount = perAccount
    }

    func contains(_ account: String, _ address: String) async -> Bool {
        do {
            return try await !database.rows("SELECT 1 FROM login_addresses WHERE account = \(account) AND address = \(address)").isEmpty
        } catch {
            logger.error("known login addresses: could not read: \(PostgresDatabase.reason(error))")
            return false
        }
    }

    func insert(_ account: String, _ address: String) async {
        do {
            try await database.transaction { connection in
                try await connection.run(
                    """
                    INSERT INTO login_addresses (account, address, seen_at) VALUES (\(account), \(address), clock_timestamp())
                    ON CONFLICT (account, address) DO UPDATE SET seen_at = excluded.seen_at
                    """, logger: logger)
                try await connection.run(
                    """
                    DELETE FROM login_addresses WHERE account = \(account) AND address NOT IN (
                        SELECT address FROM login_addresses WHERE account = \(account) ORDER BY seen_at DESC LIMIT \(perAccount))
                    """, logger: logger)
            }
        } catch {
            logger.error("known login addresses: could not record one: \(PostgresDatabase.reason(error))")
        }
    }
}
