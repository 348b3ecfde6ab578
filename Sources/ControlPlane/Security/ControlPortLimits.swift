import Foundation

/// Every budget the control port holds a caller to, in one documented value type. The defaults
/// are for a public server; tests shrink them to reach the edges quickly.
public struct ControlPortLimits: Sendable {
    // MARK: Logins and registrations

    /// Failed logins for one account *from one address*: an attacker guessing from one address
    /// meets this limit first. Default 5 per minute, bursts of 5.
    public var failedLoginsPerAccountAndAddress: RateLimiter.Rule
    /// Failed logins for one account from all addresses together: bounds a distributed guesser.
    /// Much higher than the per-address limit, and an address that logged in to the account
    /// successfully before is exempt from it (see ``Accounts/login(_:clientAddress:)``), so the
    /// owner is not locked out by other people's failures. Default 100 per hour, bursts of 100.
    public var failedLoginsPerAccount: RateLimiter.Rule
    /// Failed logins from one address across all accounts (password spraying). Default 20 per
    /// minute, bursts of 20.
    public var failedLoginsPerAddress: RateLimiter.Rule
    /// Registrations per client address (each costs a full password hash). Default 5 per
    /// 10 minutes, bursts of 5.
    public var registrationsPerAddress: RateLimiter.Rule
    /// Device logins (`POST /v1/accounts/device`) per client address, whether they create an
    /// account or not; creating one also takes from ``registrationsPerAddress``. Default 10 per
    /// minute, bursts of 10.
    public var deviceLoginsPerAddress: RateLimiter.Rule
    /// Refused refresh tokens (unknown, expired, reused) per client address; the next
    /// presentation answers 429. Default 30 per minute, bursts of 30.
    public var failedRefreshesPerAddress: RateLimiter.Rule
    /// Password hashes that may wait for a free hashing slot; the next request is answered 503
    /// `busy` with `Retry-After` at once. Default 32.
    public var maxHashWaiters: Int
    /// Peer addresses or CIDR blocks (``AddressRange``) of reverse proxies whose
    /// `X-Forwarded-For` is believed (its last entry becomes the client address). Empty by default: the header is then ignored, so a client
    /// cannot choose its own address for the rate limits.
    public var trustedProxies: Set<String>

    // MARK: Session cache

    /// Sessions (and as many accounts) the control port remembers, so that an authenticated
    /// request needs no database read; 0 turns the cache off. Default 100 000.
    public var sessionCacheEntries: Int
    /// Seconds a remembered session or account is believed before the database is asked again:
    /// the bound on staleness should a revocation from another control port be missed.
    /// Default 30.
    public var sessionCacheSeconds: TimeInterval

    // MARK: Chat

    /// Chat WebSockets one account may hold open at once; the next is refused with a
    /// `too_many_connections` error frame and close code 1008. Default 4.
    public var chatSocketsPerAccount: Int
    /// Bytes of encoded frames waiting to be written to one chat socket. A reader too slow to
    /// keep it under this is disconnected (`slow_consumer`, close 1008), not buffered for.
    /// Default 64 KiB.
    public var chatOutboxBytes: Int
    /// The longest chat message body, in UTF-8 bytes (not characters: one grapheme cluster can
    /// be arbitrarily many bytes). Default 500.
    public var chatMessageBytes: Int
    /// Messages kept per chat channel; older ones are deleted as new ones arrive. Default 10 000.
    public var chatMessagesPerChannel: Int
    /// Seconds a chat message is kept; older ones are neither served nor kept. Default 30 days.
    public var chatRetentionSeconds: TimeInterval
    /// Chat messages one player may send: 5 a second, bursts of 10 by default.
    public var chatMessagesPerPlayer: RateLimiter.Rule

    // MARK: Per-account caps

    /// Open games one account may have created; the next create answers 409 `too_many_games`.
    /// Default 100.
    public var openGamesPerAccount: Int
    /// Pending invites one account may have sent; the next answers 409 `too_many_invites`.
    /// Default 200.
    public var pendingInvitesPerAccount: Int
    /// Pending friend requests one account may have sent; the next answers 409
    /// `too_many_friend_requests`. Default 200.
    public var pendingFriendRequestsPerAccount: Int

    public init(
        failedLoginsPerAccountAndAddress: RateLimiter.Rule = .init(rate: 5.0 / 60, burst: 5),
        failedLoginsPerAccount: RateLimiter.Rule = .init(rate: 100.0 / 3600, burst: 100),
        failedLoginsPerAddress: RateLimiter.Rule = .init(rate: 20.0 / 60, burst: 20),
        registrationsPerAddress: RateLimiter.Rule = .init(rate: 5.0 / 600, burst: 5),
        deviceLoginsPerAddress: RateLimiter.Rule = .init(rate: 10.0 / 60, burst: 10),
        failedRefreshesPerAddress: RateLimiter.Rule = .init(rate: 30.0 / 60, burst: 30),
        maxHashWaiters: Int = 32,
        trustedProxies: Set<String> = [],
        sessionCacheEntries: Int = 100_000,
        sessionCacheSeconds: TimeInterval = 30,
        chatSocketsPerAccount: Int = 4,
        chatOutboxBytes: Int = 64 * 1024,
        chatMessageBytes: Int = 500,
        chatMessagesPerChannel: Int = 10_000,
        chatRetentionSeconds: TimeInterval = 30 * 24 * 3600,
        chatMessagesPerPlayer: RateLimiter.Rule = .init(rate: 5, burst: 10),
        openGamesPerAccount: Int = 100,
        pendingInvitesPerAccount: Int = 200,
        pendingFriendRequestsPerAccount: Int = 200
    ) {
        precondition(sessionCacheEntries >= 0 && sessionCacheSeconds >= 0)
        precondition(maxHashWaiters >= 0 && chatSocketsPerAccount >= 1 && chatOutboxBytes >= 1 && chatMessageBytes >= 1)
        precondition(chatMessagesPerChannel >= 1 && chatRetentionSeconds > 0)
        precondition(openGamesPerAccount >= 1 && pendingInvitesPerAccount >= 1 && pendingFriendRequestsPerAccount >= 1)
        self.failedLoginsPerAccountAndAddress = failedLoginsPerAccountAndAddress
        self.failedLoginsPerAccount = failedLoginsPerAccount
        self.failedLoginsPerAddress = failedLoginsPerAddress
        self.registrationsPerAddress = registrationsPerAddress
        self.deviceLoginsPerAddress = deviceLoginsPerAddress
        self.failedRefreshesPerAddress = failedRefreshesPerAddress
        self.maxHashWaiters = maxHashWaiters
        self.sessionCacheEntries = sessionCacheEntries
        self.sessionCacheSeconds = sessionCacheSeconds
        self.trustedProxies = trustedProxies
        self.chatSocketsPerAccount = chatSocketsPerAccount
        self.chatOutboxBytes = chatOutboxBytes
        self.chatMessageBytes = chatMessageBytes
        self.chatMessagesPerChannel = chatMessagesPerChannel
        self.chatRetentionSeconds = chatRetentionSeconds
        self.chatMessagesPerPlayer = chatMessagesPerPlayer
        self.openGamesPerAccount = openGamesPerAccount
        self.pendingInvitesPerAccount = pendingInvitesPerAccount
        self.pendingFriendRequestsPerAccount = pendingFriendRequestsPerAccount
    }
}
