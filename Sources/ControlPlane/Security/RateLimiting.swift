/// Token buckets keyed by string (an account, a client address, a player). ``RateLimiter`` keeps
/// them in this process's memory; several control ports would share buckets instead, so that a
/// caller spreading requests over them still meets one budget.
protocol RateLimiting: Sendable {
    /// Takes one token. Returns nil when allowed, or the seconds until one is available.
    func take(_ key: String) async -> Double?
    /// Seconds until `key` may act again, without taking anything.
    func retryAfter(_ key: String) async -> Double?
    /// Gives back one token taken by ``take(_:)``, never beyond the burst.
    func refund(_ key: String) async
    /// Forgets `key` (e.g. after a successful login).
    func reset(_ key: String) async
}
