import NetProtocol

/// Every setting of `arbiter serve`, by its name: the flag is `--NAME`, the environment variable
/// `ARBITER_NAME` (upper case, `-` as `_`), the configuration key `arbiter.NAME`. A flag wins
/// over the environment, the environment over the default (``ServeConfiguration/init()``).
/// ``summary`` (what it is, its unit), ``bounds`` and ``ServeConfiguration``'s defaults are the
/// one place each is described; `--help` and the validation messages are made from them.
public enum ServeSetting: String, CaseIterable, Sendable {
    // Listening and identity
    case udp
    case http
    case publicAddress = "public-address"
    case protocolID = "protocol-id"
    case maxClients = "max-clients"
    case updateInterval = "update-interval"
    case dataDir = "data-dir"
    case database
    case databasePasswordFile = "database-password-file"
    case sqliteSync = "sqlite-sync"
    case tlsCert = "tls-cert"
    case tlsKey = "tls-key"
    case metricsToken = "metrics-token"
    case seconds
    case webRoot = "web-root"
    // Accounts and logins
    case passwordCost = "password-cost"
    case maxConcurrentHashes = "max-concurrent-hashes"
    case maxHashWaiters = "max-hash-waiters"
    case sessionLifetime = "session-lifetime"
    case refreshLifetime = "refresh-lifetime"
    case sessionCacheEntries = "session-cache-entries"
    case sessionCacheSeconds = "session-cache-seconds"
    case deviceLoginsPerAddress = "device-logins-per-address"
    case failedRefreshesPerAddress = "failed-refreshes-per-address"
    case registrationsPerAddress = "registrations-per-address"
    case failedLoginsPerAccountAndAddress = "failed-logins-per-account-and-address"
    case failedLoginsPerAddress = "failed-logins-per-address"
    case failedLoginsPerAccount = "failed-logins-per-account"
    case trustedProxy = "trusted-proxy"
    case `operator`
    // Per-account caps
    case openGamesPerAccount = "open-games-per-account"
    case pendingInvitesPerAccount = "pending-invites-per-account"
    case pendingFriendRequestsPerAccount = "pending-friend-requests-per-account"
    case maxMatchesPerAccount = "max-matches-per-account"
    case maxTickRate = "max-tick-rate"
    // Chat
    case chatSocketsPerAccount = "chat-sockets-per-account"
    case chatOutboxBytes = "chat-outbox-bytes"
    case chatMessageBytes = "chat-message-bytes"
    case chatRate = "chat-rate"
    case chatBurst = "chat-burst"
    case chatMessagesPerChannel = "chat-messages-per-channel"
    case chatRetention = "chat-retention"
    case chatPruneInterval = "chat-prune-interval"
    // Connect tokens
    case tokenExpiry = "token-expiry"
    case tokenTimeout = "token-timeout"
    // Game server
    case connectionBudget = "connection-budget"
    case memoryBudget = "memory-budget"
    case overBudgetGrace = "over-budget-grace"
    case packetsPerSecond = "packets-per-second"
    case packetBurst = "packet-burst"
    case matchIdle = "match-idle"
    case arenaTickRate = "arena-tick-rate"
    case gameThreads = "game-threads"
    case cpus
    // WebSocket play (GET /v1/play)
    case playURL = "play-url"
    case playMaxPlayers = "play-max-players"
    case playFrameBytes = "play-frame-bytes"
    case playFrameRate = "play-frame-rate"
    case playFrameBurst = "play-frame-burst"
    case playOutboundFrames = "play-outbound-frames"
    // Match bookkeeping
    case reportRetryInterval = "report-retry-interval"
    case matchSweepInterval = "match-sweep-interval"
    case unreportedMatchGrace = "unreported-match-grace"

    public var flag: String { "--" + rawValue }

    /// `ARBITER_` and the name in upper case with `_` for `-` (swift-configuration's
    /// environment key encoding of `arbiter.NAME`).
    public var environmentVariable: String {
        "ARBITER_" + rawValue.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// Whether the value is a secret (never printed as given: a database URL may hold a
    /// password, so it is shown without it).
    public var isSecret: Bool { self == .metricsToken || self == .database }

    /// Repeatable flags; in the environment, comma-separated.
    public var isList: Bool { self == .publicAddress || self == .trustedProxy || self == .operator }

    /// The inclusive range a number must be in, where the setting is a number.
    public var bounds: ClosedRange<Double>? {
        switch self {
        case .maxClients: 1...1_000_000
        case .updateInterval: 0.0005...0.05
        case .seconds: 0.001...1e9
        case .maxConcurrentHashes: 1...64
        case .maxHashWaiters: 0...100_000
        case .sessionLifetime, .refreshLifetime: 60...31_536_000
        case .sessionCacheEntries: 0...10_000_000
        case .sessionCacheSeconds: 0...300
        case .deviceLoginsPerAddress, .failedRefreshesPerAddress: 1...1_000_000
        case .registrationsPerAddress, .failedLoginsPerAccountAndAddress, .failedLoginsPerAddress, .failedLoginsPerAccount: 1...1_000_000
        case .openGamesPerAccount, .pendingInvitesPerAccount, .pendingFriendRequestsPerAccount: 1...1_000_000
        case .maxMatchesPerAccount: 1...100
        case .maxTickRate, .arenaTickRate: 10...240
        case .gameThreads: 1...256
        case .chatSocketsPerAccount: 1...1000
        case .chatOutboxBytes: 1024...67_108_864
        case .chatMessageBytes: 1...16_384
        case .chatRate: 0.01...10_000
        case .chatBurst: 1...100_000
        case .chatMessagesPerChannel: 1...100_000_000
        case .chatRetention: 60...3_153_600_000
        case .chatPruneInterval: 1...86_400
        case .tokenExpiry: 5...86_400
        case .tokenTimeout: 1...3600
        case .connectionBudget: 65_536...1_073_741_824
        case .memoryBudget: 65_536...1_099_511_627_776
        case .overBudgetGrace: 0.01...3600
        case .packetsPerSecond: 1...1_000_000
        case .packetBurst: 1...1_000_000
        case .matchIdle: 1...86_400
        case .reportRetryInterval: 0.1...3600
        case .matchSweepInterval: 1...86_400
        case .unreportedMatchGrace: 0...86_400
        case .playMaxPlayers: 0...1_000_000
        case .playFrameBytes: 64...Double(Netcode.maxPayloadBytes)
        case .playFrameRate: 1...100_000
        case .playFrameBurst: 1...100_000
        case .playOutboundFrames: 4...65_536
        case .udp, .http, .publicAddress, .protocolID, .dataDir, .database, .databasePasswordFile, .tlsCert, .tlsKey, .metricsToken,
            .passwordCost, .trustedProxy, .cpus, .sqliteSync, .webRoot, .operator, .playURL:
            nil
        }
    }

    /// The unit named after the range in messages and help ("" for counts).
    public var unit: String {
        switch self {
        case .updateInterval, .seconds, .sessionLifetime, .refreshLifetime, .sessionCacheSeconds, .chatRetention, .chatPruneInterval, .tokenExpiry, .tokenTimeout, .overBudgetGrace,
            .matchIdle, .reportRetryInterval, .matchSweepInterval, .unreportedMatchGrace:
            "seconds"
        case .chatOutboxBytes, .chatMessageBytes, .connectionBudget, .memoryBudget, .playFrameBytes: "bytes"
        case .chatRate, .packetsPerSecond, .playFrameRate: "per second"
        default: ""
        }
    }

    /// What the setting is, in one sentence or two (units included); range and default follow
    /// in `--help`.
    public var summary: String {
        switch self {
        case .udp: "UDP address of the game port."
        case .http: "TCP address of the control port. Without TLS only a loopback address is used unless this names another one."
        case .publicAddress:
            "The game port's address as clients reach it, put in tokens (repeatable; the first is used; default: the bound --udp)."
        case .protocolID: "Protocol id, decimal or 0x-hex; clients and tokens must use the same."
        case .maxClients: "Most clients connected to the game port at once."
        case .updateInterval: "Seconds between the transport's timer passes (keep-alives, time-outs); match ticks run on their own deadlines."
        case .dataDir: "Where keys, the outbox and the SQLite database live."
        case .database:
            "Where the data lives: sqlite:PATH, or postgres://USER@HOST[:PORT]/DB (also postgresql://; ?sslmode=disable|prefer|require|verify-ca|verify-full, ?sslrootcert=PEM, ?host=/socket/dir for a Unix socket). The password: in the URL, --database-password-file, or PGPASSWORD."
        case .databasePasswordFile: "File holding the PostgreSQL password (its first line; default: the URL's, else PGPASSWORD)."
        case .tlsCert: "PEM certificate chain: serve the control port over TLS (with --tls-key)."
        case .tlsKey: "PEM private key for --tls-cert."
        case .metricsToken: "Require 'Authorization: Bearer TOKEN' on GET /metrics (default: open)."
        case .seconds: "Stop after this many seconds (default: run until interrupted)."
        case .sqliteSync: "When an SQLite commit is on disk: normal (synced at checkpoints; a power loss may undo the last commits) or full (synced at every commit)."
        case .webRoot:
            "The Clients folder (web/ and js/) whose pages are served at /play, /console and /js/ (default: found beside the executable in a checkout, or in the working directory)."
        case .passwordCost: "Argon2id cost: interactive (64 MiB), or minimum (for load tests only)."
        case .maxConcurrentHashes: "Password hashes computed at once; more wait."
        case .maxHashWaiters: "Password hashes that may wait for a slot; the next request is answered 503 busy."
        case .sessionLifetime: "Seconds a session (access) token lives."
        case .refreshLifetime: "Seconds a refresh token lives; each resume (POST /v1/sessions/refresh) issues a fresh one."
        case .sessionCacheEntries: "Sessions (and as many accounts) remembered in memory so that authenticated requests skip the database; 0: off."
        case .sessionCacheSeconds:
            "Seconds a remembered session is believed before the database is asked again: the staleness bound should a revocation be missed."
        case .deviceLoginsPerAddress: "Device logins (POST /v1/accounts/device) one client address may make per minute (also the burst)."
        case .failedRefreshesPerAddress: "Refused refresh tokens one client address may present per minute (also the burst)."
        case .registrationsPerAddress: "Registrations one client address may make per 10 minutes (also the burst)."
        case .failedLoginsPerAccountAndAddress: "Failed logins for one account from one address per minute (also the burst)."
        case .failedLoginsPerAddress: "Failed logins from one address, all accounts together, per minute (also the burst)."
        case .failedLoginsPerAccount:
            "Failed logins for one account from all addresses per hour (also the burst); addresses that logged in to it before are exempt."
        case .trustedProxy:
            "Address or CIDR block of reverse proxies whose X-Forwarded-For names the client (repeatable; default: none, the header is ignored)."
        case .operator: "Username of an operator, who may use /console and /v1/console/... (repeatable; default: none)."
        case .openGamesPerAccount: "Open games one account may have created (409 too_many_games beyond)."
        case .pendingInvitesPerAccount: "Pending invites one account may have sent (409 too_many_invites beyond)."
        case .pendingFriendRequestsPerAccount: "Pending friend requests one account may have sent (409 too_many_friend_requests beyond)."
        case .maxMatchesPerAccount: "Running matches one account may be in at once."
        case .maxTickRate: "Highest tick rate a game may choose, in Hz."
        case .chatSocketsPerAccount: "Chat WebSockets one account may hold open at once."
        case .chatOutboxBytes: "Bytes waiting to be written to one chat socket; a slower reader is disconnected (slow_consumer)."
        case .chatMessageBytes: "Longest chat message body, in UTF-8 bytes."
        case .chatRate: "Chat messages one player may send per second, sustained."
        case .chatBurst: "Chat messages one player may send in a burst."
        case .chatMessagesPerChannel: "Chat messages kept per channel (older ones are deleted as new ones arrive)."
        case .chatRetention: "Seconds a chat message is kept."
        case .chatPruneInterval: "Seconds between sweeps that delete expired chat messages in every channel."
        case .tokenExpiry: "Seconds a connect token stays valid for its first connect."
        case .tokenTimeout: "Seconds of silence before the game server or client drops a connection (put in tokens)."
        case .connectionBudget:
            "Bytes one game connection may make the server hold (queues, reassemblies, history); over it the peer is back-pressured, then disconnected (over_budget)."
        case .memoryBudget: "Bytes all game connections together may hold (at least --connection-budget)."
        case .overBudgetGrace: "Seconds a game connection may stay pressed against its budget before it is disconnected."
        case .packetsPerSecond: "Packets per second one game peer may have processed, sustained; the rest are dropped."
        case .packetBurst: "Packets one game peer may have processed in a burst above --packets-per-second."
        case .matchIdle: "Seconds an empty match waits for (more) players before it ends."
        case .arenaTickRate: "Tick rate of the default arena (clients whose token names no match), in Hz."
        case .gameThreads:
            "Game workers: each a thread with its own UDP port (--udp's port, the next one, ...; port 0: any) and its own matches; a new match goes to the least-loaded."
        case .cpus: "CPUs the game workers run on, as taskset writes them (0,2-3); worker i is pinned to the i-th (modulo the list). Default: not pinned."
        case .playURL:
            "Where clients reach this instance's GET /v1/play, named in join answers' websocket_url: a path (/instances/2/v1/play) on the host the client reached, for a balancer that routes it to this instance alone, or a ws:// or wss:// URL (default: /v1/play as the request reached this control port)."
        case .playMaxPlayers: "WebSocket players (GET /v1/play) at once, over all game workers; the next is closed with server_full."
        case .playFrameBytes: "Largest frame a WebSocket player may send (one channel packet); a larger one closes the socket (frame_too_large)."
        case .playFrameRate: "Frames per second a WebSocket player may send, sustained; above it and --play-frame-burst the socket is closed (rate_limited)."
        case .playFrameBurst: "Frames a WebSocket player may send in a burst above --play-frame-rate (TCP delivers late frames together)."
        case .playOutboundFrames: "Frames that may wait for one WebSocket player's socket; a slower reader is closed (too_slow)."
        case .reportRetryInterval: "Seconds between retries of match reports not yet stored (they wait in the data directory's outbox)."
        case .matchSweepInterval: "Seconds between sweeps that close matches which never reported."
        case .unreportedMatchGrace: "Seconds past its time limit a match that never reported is closed as timed_out."
        }
    }
}
