import Foundation
import Logging
import ServiceLifecycle

/// Deletes chat messages past their age in every channel, including channels nobody writes to
/// any more (inserts prune only their own channel). Runs once at start, then every `interval`.
public struct ChatJanitor: Service {
    let store: any ChatStore
    let retention: ChatRetention
    let interval: Duration
    let logger: Logger

    public init(services: ControlPlaneServices, interval: Duration = .seconds(3600), logger: Logger) {
        store = services.stores.chat
        retention = ChatRetention(limits: services.limits)
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await sweepPeriodically(every: interval) {
            do {
                let deleted = try await pruneExpired(now: Date())
                if deleted > 0 { logger.info("pruned expired chat messages", metadata: ["count": "\(deleted)"]) }
            } catch {
                logger.error("pruning chat history failed: \(error)")
            }
        }
    }

    /// Deletes expired messages oldest first, in batches of `batch` rows (one short write each,
    /// so chat inserts are not held up); returns how many went.
    func pruneExpired(now: Date, batch: Int = 1000) async throws -> Int {
        let cutoff = retention.cutoff(now: now)
        var total = 0
        while true {
            let deleted = try await store.deleteMessages(sentBefore: cutoff, batch: batch)
            total += deleted
            if deleted < batch { return total }
        }
    }
}
