import Foundation
import Synchronization

/// Token buckets keyed by string (an account, a client address, a player), in memory. The map is
/// bounded: when full, idle buckets are evicted first, so a flood of distinct keys cannot grow it.
/// A lock, not an actor: every check is a few arithmetic steps, and on a resume or login storm
/// an actor's two executor hops per request cost more than the check.
public final class RateLimiter: RateLimiting {
    public struct Rule: Sendable {
        /// Sustained rate, per second.
        public var rate: Double
        /// Burst size.
        public var burst: Double

        public init(rate: Double, burst: Double) {
            self.rate = rate
            self.burst = burst
        }
    }

    struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private let rule: Rule
    private let maxKeys: Int
    private let state = Mutex<[String: Bucket]>([:])
    private let clock: @Sendable () -> Double

    public init(rule: Rule, maxKeys: Int = 100_000, clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.rule = rule
        self.maxKeys = maxKeys
        self.clock = clock
    }

    /// Takes one token. Returns nil when allowed, or the seconds until one is available.
    public func take(_ key: String) -> Double? {
        let now = clock()
        return state.withLock { buckets in
            var bucket = refreshed(key, in: buckets, now: now)
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return (1 - bucket.tokens) / rule.rate
            }
            bucket.tokens -= 1
            store(key, bucket, in: &buckets, now: now)
            return nil
        }
    }

    /// Seconds until `key` may act again, without taking anything.
    public func retryAfter(_ key: String) -> Double? {
        let now = clock()
        let bucket = state.withLock { refreshed(key, in: $0, now: now) }
        return bucket.tokens >= 1 ? nil : (1 - bucket.tokens) / rule.rate
    }

    /// Gives back one token taken by ``take(_:)`` (e.g. the attempt turned out to be legitimate),
    /// never beyond the burst.
    public func refund(_ key: String) {
        let now = clock()
        state.withLock { buckets in
            guard buckets[key] != nil else { return }
            var bucket = refreshed(key, in: buckets, now: now)
            bucket.tokens = min(rule.burst, bucket.tokens + 1)
            buckets[key] = bucket
        }
    }

    /// Forgets `key` (e.g. after a successful login).
    public func reset(_ key: String) { _ = state.withLock { $0.removeValue(forKey: key) } }

    private func refreshed(_ key: String, in buckets: [String: Bucket], now: Double) -> Bucket {
        guard var bucket = buckets[key] else { return Bucket(tokens: rule.burst, updated: now) }
        bucket.tokens = min(rule.burst, bucket.tokens + (now - bucket.updated) * rule.rate)
        bucket.updated = now
        return bucket
    }

    private func store(_ key: String, _ bucket: Bucket, in buckets: inout [String: Bucket], now: Double) {
        if buckets[key] == nil && buckets.count >= maxKeys {
            // Full buckets carry no information: drop them; if none, drop the oldest quarter.
            buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * rule.rate < rule.burst }
            if buckets.count >= maxKeys {
                let keep = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(maxKeys * 3 / 4)
                buckets = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
            }
        }
        buckets[key] = bucket
    }
}
