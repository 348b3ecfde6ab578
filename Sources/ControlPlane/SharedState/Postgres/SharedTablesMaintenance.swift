import Foundation
import Logging
import ServiceLifecycle

/// Keeps an instance's shared rows honest: a heartbeat every
/// ``ControlInstance/heartbeatInterval`` (writing its presence again if it had been deemed dead
/// and deleted), the deletion of dead instances and game servers (any live instance does it;
/// the statements are idempotent), and every ``sweepInterval`` the deletion of refilled rate
/// buckets and empty presence rows. At a graceful shutdown the instance deletes its own rows.
public struct SharedTablesMaintenance: Service {
    let tables: PostgresSharedTables
    /// Seconds between sweeps of idle rows.
    public var sweepInterval: Double = 30

    private var logger: Logger { tables.instance.database.logger }

    /// One heartbeat round (what the service does every heartbeat interval).
    func heartbeat() async {
        do {
            if try await tables.instance.heartbeat() { await tables.presence.republish() }
            try await tables.instance.deleteStale()
            try await tables.directory?.deleteStaleServers()
        } catch {
            logger.error("shared state: a heartbeat failed: \(PostgresDatabase.reason(error))")
        }
    }

    /// One sweep of rows that say nothing any more.
    func sweep() async {
        for limiter in tables.limiters {
            do {
                try await limiter.sweep()
            } catch {
                logger.error("shared state: could not sweep rate limit \(limiter.name): \(PostgresDatabase.reason(error))")
            }
        }
        await tables.presence.deleteIdleRows()
    }

    public func run() async throws {
        await heartbeat()
        try? await cancelWhenGracefulShutdown {
            var sinceSweep = 0.0
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(tables.instance.heartbeatInterval))
                await heartbeat()
                sinceSweep += tables.instance.heartbeatInterval
                if sinceSweep >= sweepInterval {
                    sinceSweep = 0
                    await sweep()
                }
            }
        }
        do {
            try await tables.instance.deregister()
        } catch {
            logger.error("shared state: could not deregister: \(PostgresDatabase.reason(error))")
        }
    }
}
