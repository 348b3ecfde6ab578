/// The state the control port keeps between requests outside its database: the ranked boards,
/// who is online, the chat sockets, and the abuse budgets. Each sits behind a protocol, so that
/// several control ports can share it without the routes changing: ``inProcess(limits:boards:)``
/// is what one process uses on its own, ``postgres(database:bus:limits:logger:)`` what control
/// ports on one PostgreSQL database share.
struct SharedState: Sendable {
    let leaderboards: any LeaderboardRanking
    let presence: any PresenceTracking
    let chat: any ChatRelay
    let logins: LoginLimiters
    /// Chat messages per player (``ControlPortLimits/chatMessagesPerPlayer``).
    let chatMessages: any RateLimiting
    /// This process's session cache: always local, even when the rest is shared.
    let sessions: SessionCache
    /// What carries revocations to every control port's session cache.
    let sessionRevocations: any SessionRevocations

    /// Everything in this process's memory.
    static func inProcess(limits: ControlPortLimits, boards: any LeaderboardStore) -> SharedState {
        let sessions = SessionCache(capacity: limits.sessionCacheEntries, lifetime: limits.sessionCacheSeconds)
        return SharedState(
            leaderboards: LeaderboardCache(store: boards), presence: Presence(), chat: ChatHub(limits: limits),
            logins: LoginLimiters(
                failedByAccountAndAddress: RateLimiter(rule: limits.failedLoginsPerAccountAndAddress),
                failedByAccount: RateLimiter(rule: limits.failedLoginsPerAccount),
                failedByAddress: RateLimiter(rule: limits.failedLoginsPerAddress),
                registrationsByAddress: RateLimiter(rule: limits.registrationsPerAddress),
                deviceLoginsByAddress: RateLimiter(rule: limits.deviceLoginsPerAddress),
                failedRefreshesByAddress: RateLimiter(rule: limits.failedRefreshesPerAddress),
                knownAddresses: RecentLoginAddresses()),
            chatMessages: RateLimiter(rule: limits.chatMessagesPerPlayer),
            sessions: sessions, sessionRevocations: LocalSessionRevocations(cache: sessions))
    }
}

/// The budgets logins and registrations are held to (see ``Accounts/login(_:clientAddress:)``).
struct LoginLimiters: Sendable {
    let failedByAccountAndAddress: any RateLimiting
    let failedByAccount: any RateLimiting
    let failedByAddress: any RateLimiting
    let registrationsByAddress: any RateLimiting
    let deviceLoginsByAddress: any RateLimiting
    let failedRefreshesByAddress: any RateLimiting
    /// Addresses exempt from `failedByAccount`.
    let knownAddresses: any KnownLoginAddresses
}
