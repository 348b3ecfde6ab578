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
    /// Sessions ended on any control port. The chat relay announces through it (its
    /// ``ChatRelay/endSession(_:)``); whatever else holds sessions (a cache of live ones)
    /// observes it. In one process nothing else needs telling: ``ChatHub`` ends its sockets itself.
    let sessionEnds: any SessionEndNotices

    /// Everything in this process's memory.
    static func inProcess(limits: ControlPortLimits, boards: any LeaderboardStore) -> SharedState {
        SharedState(
            leaderboards: LeaderboardCache(store: boards), presence: Presence(), chat: ChatHub(limits: limits),
            logins: LoginLimiters(
                failedByAccountAndAddress: RateLimiter(rule: limits.failedLoginsPerAccountAndAddress),
                failedByAccount: RateLimiter(rule: limits.failedLoginsPerAccount),
                failedByAddress: RateLimiter(rule: limits.failedLoginsPerAddress),
                registrationsByAddress: RateLimiter(rule: limits.registrationsPerAddress),
                knownAddresses: RecentLoginAddresses()),
            chatMessages: RateLimiter(rule: limits.chatMessagesPerPlayer), sessionEnds: InProcessSessionEnds())
    }
}

/// The budgets logins and registrations are held to (see ``Accounts/login(_:clientAddress:)``).
struct LoginLimiters: Sendable {
    let failedByAccountAndAddress: any RateLimiting
    let failedByAccount: any RateLimiting
    let failedByAddress: any RateLimiting
    let registrationsByAddress: any RateLimiting
    /// Addresses exempt from `failedByAccount`.
    let knownAddresses: any KnownLoginAddresses
}
