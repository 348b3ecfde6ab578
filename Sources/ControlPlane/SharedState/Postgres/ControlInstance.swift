import Foundation
import PostgresNIO

/// One control port among those sharing a PostgreSQL database, as the others see it: a row of
/// `control_instances` it keeps fresh (``heartbeat()``). The rows an instance owns (its presence
/// counts, its game server) count only while its heartbeat is younger than ``staleAfter``
/// seconds, on the database's clock, and are deleted by the next ``deleteStale()`` of any
/// instance after that: an instance that dies stops counting within that bound.
public struct ControlInstance: Sendable {
    public let id: UUID
    let database: PostgresDatabase
    /// Seconds without a heartbeat after which an instance counts as dead.
    public let staleAfter: Double
    /// Seconds between heartbeats: well under ``staleAfter``, so that a slow one does not end a
    /// live instance.
    public let heartbeatInterval: Double

    public init(database: PostgresDatabase, id: UUID = UUID(), staleAfter: Double = 15, heartbeatInterval: Double = 3) {
        precondition(heartbeatInterval * 2 < staleAfter, "heartbeats come several times within the stale bound")
        self.id = id
        self.database = database
        self.staleAfter = staleAfter
        self.heartbeatInterval = heartbeatInterval
    }

    private var logger: Logger { database.logger }

    /// Marks the instance alive now, registering it if it has no row (at start, or after it was
    /// deemed dead and deleted). Returns true when it had to register: whatever rows it owned
    /// were deleted with the old one, and must be written again.
    @discardableResult
    func heartbeat() async throws -> Bool {
        let rows = try await database.rows(
            """
            INSERT INTO control_instances (id) VALUES (\(id))
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = clock_timestamp()
            RETURNING (xmax = 0)
            """)
        // xmax is 0 on a row this statement inserted, and set on one it updated.
        return try rows.first?.decode(Bool.self) ?? true
    }

    /// Deletes the instances whose heartbeat is older than ``staleAfter``, and with them (by
    /// cascade) their presence rows and game servers. Returns how many.
    @discardableResult
    func deleteStale() async throws -> Int {
        let rows = try await database.rows(
            """
            WITH deleted AS (
                DELETE FROM control_instances WHERE heartbeat_at < clock_timestamp() - make_interval(secs => \(staleAfter)) RETURNING 1)
            SELECT count(*) FROM deleted
            """)
        return try rows.first?.decode(Int.self) ?? 0
    }

    /// Deletes this instance's row and all it owns (a clean shutdown).
    func deregister() async throws {
        _ = try await database.rows("DELETE FROM control_instances WHERE id = \(id)")
    }
}
