import ControlPlane
import Foundation
import GameCore
import MatchContract
import GameRuntime
import NetProtocol

/// Every setting and default `arbiter serve` uses, in one value. Each property names its flag
/// (`--NAME`) and environment variable (`ARBITER_NAME`); ``ServeSetting`` holds their ranges
/// and `--help` text. Build it with ``load(flags:environment:)`` (flags over environment over
/// these defaults, then ``validate(naming:)``), then hand its parts to the services:
/// ``controlPortLimits``, ``matchLimits``, ``gameServerLimits``, ``defaultArena``,
/// ``tokenMinter(privateKey:)``.
public struct ServeConfiguration: Sendable, Equatable {
    /// Argon2id parameters for password hashes.
    public enum PasswordCost: String, Sendable, CaseIterable {
        /// libsodium's interactive limits (64 MiB, 2 passes): production.
        case interactive
        /// libsodium's minimum: load tests only.
        case minimum

        public var hasherCost: PasswordHasher.Cost { self == .interactive ? .interactive : .minimum }
    }

    // MARK: Listening and identity

    /// `--udp`: the game port's UDP address. Default `127.0.0.1:40000`.
    public var udp = NetAddress(ipv4: 127, 0, 0, 1, port: 40000)
    /// `--http`: the control port's TCP address. Default `127.0.0.1:8080`.
    public var http = NetAddress(ipv4: 127, 0, 0, 1, port: 8080)
    /// `--public-address` (repeatable; env comma-separated): the game port's address as clients
    /// reach it, put in tokens; the first is used. Default: none (the bound `--udp`).
    public var publicAddresses: [NetAddress] = []
    /// `--protocol-id` (decimal or 0x-hex): default `0x4152424954455201` ("ARBITER", version 1).
    public var protocolID: UInt64 = ServeConfiguration.defaultProtocolID
    /// `--max-clients`: clients connected to the game port at once, 1...1 000 000. Default 1024.
    public var maxClients = 1024
    /// `--update-interval`: seconds between the transport's timer passes (keep-alives,
    /// time-outs, pending handshakes), 0.0005...0.05. Default 0.01. Match ticks do not wait for
    /// it: a game worker wakes for its next tick (and these passes), then drains its socket.
    public var updateInterval = 0.01
    /// `--data-dir`: where `transport.key`, `email.key`, `arbiter.sqlite` and the outbox live.
    /// Default `./data`.
    public var dataDirectory = "./data"
    /// `--database` (secret: shown without its password): `sqlite:PATH` or
    /// `postgres://USER@HOST[:PORT]/DB[?sslmode=...]`. Default: none, the SQLite file
    /// `arbiter.sqlite` in `--data-dir` (``resolvedDatabase``).
    public var database: DatabaseLocation?
    /// `--database-password-file`: the PostgreSQL password's file (its first line). Default: none
    /// (the URL's password, else `PGPASSWORD`).
    public var databasePasswordFile: String?
    /// `--sqlite-sync`: `normal` (default) or `full` (see ``AppDatabase/Sync``).
    public var sqliteSync = AppDatabase.Sync.normal
    /// `--tls-cert` / `--tls-key`: PEM chain and key for the control port; both or neither.
    /// Default: none (plain HTTP).
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// `--metrics-token` (secret): bearer token `GET /metrics` requires. Default: none (open).
    public var metricsToken: String?
    /// `--seconds`: stop after this many seconds, 0.001...1e9. Default: run until interrupted.
    public var runSeconds: Double?
    /// `--web-root`: the `Clients` folder whose `web/` and `js/` are served (`/play`,
    /// `/console`, `/js/…`). Default: none given, found from the executable or the working
    /// directory (``ControlPlane/WebPages/locate(candidates:)``).
    public var webRoot: String?

    // MARK: Accounts and logins

    /// `--password-cost`: `interactive` (default) or `minimum`.
    public var passwordCost = PasswordCost.interactive
    /// `--max-concurrent-hashes`: password hashes computed at once, 1...64. Default 2.
    public var maxConcurrentHashes = 2
    /// `--max-hash-waiters`: hashes that may wait for a slot (then 503 `busy`), 0...100 000.
    /// Default 32.
    public var maxHashWaiters = 32
    /// `--session-lifetime`: seconds a session token lives, 60...31 536 000. Default 7 days.
    public var sessionLifetime: TimeInterval = 7 * 24 * 3600
    /// `--refresh-lifetime`: seconds a refresh token lives, 60...31 536 000. Default 30 days.
    public var refreshLifetime: TimeInterval = 30 * 24 * 3600
    /// `--session-cache-entries`: sessions (and accounts) kept in memory, 0...10 000 000.
    /// Default 100 000.
    public var sessionCacheEntries = 100_000
    /// `--session-cache-seconds`: seconds a cached session is believed, 0...300. Default 30.
    public var sessionCacheSeconds: TimeInterval = 30
    /// `--device-logins-per-address`: per minute (also the burst), 1...1 000 000. Default 10.
    public var deviceLoginsPerAddress = 10
    /// `--failed-refreshes-per-address`: per minute (also the burst), 1...1 000 000. Default 30.
    public var failedRefreshesPerAddress = 30
    /// `--registrations-per-address`: registrations per client address per 10 minutes (also
    /// the burst), 1...1 000 000. Default 5.
    public var registrationsPerAddress = 5
    /// `--failed-logins-per-account-and-address`: per minute (also the burst). Default 5.
    public var failedLoginsPerAccountAndAddress = 5
    /// `--failed-logins-per-address`: all accounts together, per minute (also the burst).
    /// Default 20.
    public var failedLoginsPerAddress = 20
    /// `--failed-logins-per-account`: from all addresses, per hour (also the burst); addresses
    /// that logged in to the account before are exempt. Default 100.
    public var failedLoginsPerAccount = 100
    /// `--trusted-proxy` (repeatable; env comma-separated): proxies whose `X-Forwarded-For` is
    /// believed. Default: none.
    public var trustedProxies: [String] = []
    /// `--operator` (repeatable; env comma-separated): usernames that may use the console.
    /// Default: none.
    public var operators: [String] = []

    // MARK: Per-account caps

    /// `--open-games-per-account`, 1...1 000 000. Default 100.
    public var openGamesPerAccount = 100
    /// `--pending-invites-per-account`, 1...1 000 000. Default 200.
    public var pendingInvitesPerAccount = 200
    /// `--pending-friend-requests-per-account`, 1...1 000 000. Default 200.
    public var pendingFriendRequestsPerAccount = 200
    /// `--max-matches-per-account`: running matches one account may be in, 1...100. Default 2.
    public var maxMatchesPerAccount = 2
    /// `--max-tick-rate`: highest tick rate a game may choose, 10...240 Hz. Default 128.
    public var maxTickRate = 128

    // MARK: Chat

    /// `--chat-sockets-per-account`, 1...1000. Default 4.
    public var chatSocketsPerAccount = 4
    /// `--chat-outbox-bytes`: bytes waiting per chat socket, 1 KiB...64 MiB. Default 64 KiB.
    public var chatOutboxBytes = 64 * 1024
    /// `--chat-message-bytes`: longest message body in UTF-8 bytes, 1...16 384. Default 500.
    public var chatMessageBytes = 500
    /// `--chat-rate`: messages per player per second, sustained, 0.01...10 000. Default 5.
    public var chatRate = 5.0
    /// `--chat-burst`: messages per player in a burst, 1...100 000. Default 10.
    public var chatBurst = 10
    /// `--chat-messages-per-channel`: messages kept per channel, 1...10^8. Default 10 000.
    public var chatMessagesPerChannel = 10_000
    /// `--chat-retention`: seconds a message is kept, 60 s...100 years. Default 30 days.
    public var chatRetention: TimeInterval = 30 * 24 * 3600
    /// `--chat-prune-interval`: seconds between sweeps of expired messages, 1...86 400.
    /// Default 3600.
    public var chatPruneInterval: TimeInterval = 3600

    // MARK: Connect tokens

    /// `--token-expiry`: seconds a connect token is valid for its first connect, 5...86 400.
    /// Default 60. (A running match stays reserved for a joiner this long plus 5 s.)
    public var tokenExpiry = 60
    /// `--token-timeout`: seconds of silence before either end drops the connection, 1...3600.
    /// Default 10.
    public var tokenTimeout = 10

    // MARK: Game server

    /// `--connection-budget`: bytes one connection may make the server hold, 64 KiB...1 GiB.
    /// Default 1 MiB.
    public var connectionBudget = GameServerLimits().connectionBudgetBytes
    /// `--memory-budget`: bytes all connections together may hold, at least
    /// `--connection-budget`, at most 1 TiB. Default 768 MiB.
    public var memoryBudget = GameServerLimits().totalBudgetBytes
    /// `--over-budget-grace`: seconds pressed against the budget before disconnection,
    /// 0.01...3600. Default 2.
    public var overBudgetGrace = GameServerLimits().overBudgetGraceSeconds
    /// `--packets-per-second`: packets one peer may have processed per second, sustained,
    /// 1...1 000 000. Default 600.
    public var packetsPerSecond = GameServerLimits().packetsPerSecond
    /// `--packet-burst`: packets above that in a burst, 1...1 000 000. Default 120.
    public var packetBurst = GameServerLimits().packetBurst
    /// `--match-idle`: seconds an empty match waits for players before it ends, 1...86 400.
    /// Default 60.
    public var matchIdle = 60.0
    /// `--arena-tick-rate`: the default arena's tick rate, 10...240 Hz. Default 60. (The arena
    /// admits any client whose token names no match, up to `--max-clients`, and never ends; its
    /// other settings are fixed: see ``defaultArena``.)
    public var arenaTickRate = 60
    /// `--game-threads`: game workers, 1...256. Default: the number of CPUs this process may
    /// use (``resolvedGameThreads``).
    public var gameThreads: Int?
    /// `--cpus`: where the game workers run (worker i on the i-th CPU of the list, modulo its
    /// length). Default: not pinned.
    public var cpus: CPUList?

    // MARK: WebSocket play

    /// `--play-url`: where clients reach this instance's `GET /v1/play`, a path or a `ws://`
    /// or `wss://` URL (``PlayEndpoint``). Default: none, `/v1/play` as the request came.
    public var playURL: PlayEndpoint?
    /// `--play-max-players`: WebSocket players at once, 0...1 000 000. Default 1024.
    public var playMaxPlayers = PlayStreamLimits().maxPlayers
    /// `--play-frame-bytes`: largest client frame, 64...1200 bytes (one channel packet).
    /// Default 1200.
    public var playFrameBytes = PlayStreamLimits().maxFrameBytes
    /// `--play-frame-rate`: client frames per second, sustained, 1...100 000. Default 600.
    public var playFrameRate = PlayStreamLimits().framesPerSecond
    /// `--play-frame-burst`: client frames in a burst above that, 1...100 000. Default 240.
    public var playFrameBurst = PlayStreamLimits().frameBurst
    /// `--play-outbound-frames`: frames waiting for one player's socket, 4...65 536. Default 64.
    public var playOutboundFrames = PlayStreamLimits().outboundFrames

    /// `--database`, or the SQLite file in the data directory.
    public var resolvedDatabase: DatabaseLocation {
        database ?? .sqlite(path: (dataDirectory as NSString).appendingPathComponent("arbiter.sqlite"))
    }

    /// `--game-threads`, or the number of CPUs this process may use.
    public var resolvedGameThreads: Int { gameThreads ?? CPUList.allowed().cpus.count }

    // MARK: Match bookkeeping

    /// `--report-retry-interval`: seconds between retries of undelivered match reports,
    /// 0.1...3600. Default 5.
    public var reportRetryInterval = 5.0
    /// `--match-sweep-interval`: seconds between sweeps for matches that never reported,
    /// 1...86 400. Default 30.
    public var matchSweepInterval = 30.0
    /// `--unreported-match-grace`: seconds past its time limit such a match is closed as
    /// `timed_out`, 0...86 400. Default 120.
    public var unreportedMatchGrace = 120.0

    /// The defaults.
    public init() {}

    /// "ARBITER" then version 1.
    public static let defaultProtocolID: UInt64 = 0x4152_4249_5445_5201
}

extension ServeConfiguration {
    /// The control port's budgets (the rest of ``ControlPortLimits`` keeps its defaults).
    public var controlPortLimits: ControlPortLimits {
        var limits = ControlPortLimits()
        limits.failedLoginsPerAccountAndAddress = .init(rate: Double(failedLoginsPerAccountAndAddress) / 60, burst: Double(failedLoginsPerAccountAndAddress))
        limits.failedLoginsPerAccount = .init(rate: Double(failedLoginsPerAccount) / 3600, burst: Double(failedLoginsPerAccount))
        limits.failedLoginsPerAddress = .init(rate: Double(failedLoginsPerAddress) / 60, burst: Double(failedLoginsPerAddress))
        limits.registrationsPerAddress = .init(rate: Double(registrationsPerAddress) / 600, burst: Double(registrationsPerAddress))
        limits.deviceLoginsPerAddress = .init(rate: Double(deviceLoginsPerAddress) / 60, burst: Double(deviceLoginsPerAddress))
        limits.failedRefreshesPerAddress = .init(rate: Double(failedRefreshesPerAddress) / 60, burst: Double(failedRefreshesPerAddress))
        limits.sessionCacheEntries = sessionCacheEntries
        limits.sessionCacheSeconds = sessionCacheSeconds
        limits.maxHashWaiters = maxHashWaiters
        limits.trustedProxies = Set(trustedProxies)
        limits.chatSocketsPerAccount = chatSocketsPerAccount
        limits.chatOutboxBytes = chatOutboxBytes
        limits.chatMessageBytes = chatMessageBytes
        limits.chatMessagesPerPlayer = .init(rate: chatRate, burst: Double(chatBurst))
        limits.chatMessagesPerChannel = chatMessagesPerChannel
        limits.chatRetentionSeconds = chatRetention
        limits.openGamesPerAccount = openGamesPerAccount
        limits.pendingInvitesPerAccount = pendingInvitesPerAccount
        limits.pendingFriendRequestsPerAccount = pendingFriendRequestsPerAccount
        return limits
    }

    public var matchLimits: MatchLimits {
        MatchLimits(maxConcurrentMatchesPerAccount: maxMatchesPerAccount, maxTickRate: maxTickRate)
    }

    /// The bounds of WebSocket players (`--play-...`).
    public var playStreamLimits: PlayStreamLimits {
        PlayStreamLimits(
            maxFrameBytes: playFrameBytes, framesPerSecond: playFrameRate, frameBurst: playFrameBurst, maxPlayers: playMaxPlayers,
            outboundFrames: playOutboundFrames)
    }

    public var gameServerLimits: GameServerLimits {
        GameServerLimits(
            connectionBudgetBytes: connectionBudget, overBudgetGraceSeconds: overBudgetGrace, totalBudgetBytes: memoryBudget,
            packetsPerSecond: packetsPerSecond, packetBurst: packetBurst)
    }

    /// The default arena: `--arena-tick-rate`; 64 players, score limit 1 000 000 and a day are
    /// its fixed nominal limits (the arena is never full and never ends).
    public var defaultArena: MatchSettings {
        MatchSettings(maxPlayers: 64, tickRate: arenaTickRate, scoreLimit: 1_000_000, timeLimitSeconds: 86_400)
    }

    /// The connect-token minter with `--token-expiry` and `--token-timeout`.
    public func tokenMinter(privateKey: SymmetricKey) -> TokenMinter {
        var minter = TokenMinter(privateKey: privateKey, protocolID: protocolID)
        minter.expireSeconds = Int64(tokenExpiry)
        minter.timeoutSeconds = Int32(clamping: tokenTimeout)
        return minter
    }

    /// The game port's addresses for tokens: the public ones, else `bound`.
    public func gameAddress(bound: NetAddress) -> NetAddress { publicAddresses.first ?? bound }

    /// Where game worker `worker` listens: `--udp` with its port plus the worker's index (port
    /// 0 stays 0: each worker gets a port of its own from the kernel).
    public func udpAddress(worker: Int) -> NetAddress { Self.offset(udp, by: worker) }

    /// The address worker `worker` is reached at, for its tokens: the public address with its
    /// port plus the worker's index, else what it bound.
    public func gameAddress(worker: Int, bound: NetAddress) -> NetAddress {
        publicAddresses(worker: worker).first ?? bound
    }

    /// `--public-address` for worker `worker`: each port plus the worker's index.
    public func publicAddresses(worker: Int) -> [NetAddress] { publicAddresses.map { Self.offset($0, by: worker) } }

    /// The CPUs worker `worker` is pinned to, if `--cpus` was given.
    public func cpus(worker: Int) -> CPUList? {
        cpus.map { CPUList([$0.cpus[worker % $0.cpus.count]]) }
    }

    private static func offset(_ address: NetAddress, by worker: Int) -> NetAddress {
        guard address.port != 0, worker > 0 else { return address }
        return address.withPort(UInt16(clamping: Int(address.port) + worker))
    }
}
