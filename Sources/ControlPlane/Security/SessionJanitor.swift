import Foundation
import Logging
import ServiceLifecycle

/// Deletes what ended sessions leave in the database: sessions past their expiry (revoked or
/// not) and refresh families that were revoked or whose tokens all expired, once they are older
/// than `grace`. Without it every login and every resume would grow the tables for ever. Runs
/// once at start, then every `interval`; on several control ports each runs it (the deletes are
/// idempotent).
public struct SessionJanitor: Service {
    let store: any AccountStore
    let interval: Duration
    let grace: TimeInterval
    let logger: Logger

    public init(services: ControlPlaneServices, interval: Duration = .seconds(3600), grace: TimeInterval = 24 * 3600, logger: Logger) {
        store = services.stores.accounts
        self.interval = interval
        self.grace = grace
        self.logger = logger
    }

    public func run() async throws {
        await sweepPeriodically(every: interval) {
            do {
                let deleted = try await pruneEnded(now: Date())
                if deleted.sessions + deleted.families > 0 {
                    logger.info("deleted ended sessions", metadata: ["sessions": "\(deleted.sessions)", "refresh_families": "\(deleted.families)"])
                }
            } catch {
                logger.error("deleting ended sessions failed: \(error)")
            }
        }
    }

    /// Deletes in batches of `batch` rows (one short write each) until a batch comes back short.
    func pruneEnded(now: Date, batch: Int = 1000) async throws -> (sessions: Int, families: Int) {
        let cutoff = now.addingTimeInterval(-grace)
        var total = (sessions: 0, families: 0)
        while true {
            let deleted = try await store.deleteEndedSessions(before: cutoff, batch: batch)
            total.sessions += deleted.sessions
            total.families += deleted.families
            if deleted.sessions < batch && deleted.families < batch { return total }
        }
    }
}
