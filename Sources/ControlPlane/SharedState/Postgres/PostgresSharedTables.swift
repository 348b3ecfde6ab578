import Foundation
import Logging

/// The pieces of ``SharedState`` that several control ports on one PostgreSQL database keep in
/// its tables: who is online, the login, registration and chat budgets, the known login
/// addresses, and this instance's registration (and its game server's, in ``directory``). The
/// leaderboard cache and the chat relay are not here (they need change notifications, not
/// tables): ``SharedState/postgresTables(_:limits:boards:)`` puts this instance's own beside
/// these, and a fuller assembly can take them from here.
///
/// Run ``maintenance`` (a `Service`) for as long as the instance serves.
public struct PostgresSharedTables: Sendable {
    public let instance: ControlInstance
    let presence: PostgresPresence
    let logins: LoginLimiters
    let chatMessages: PostgresRateLimiter
    /// Every rate limiter above, for the sweep.
    let limiters: [PostgresRateLimiter]
    /// The match directory of this instance's game server, if it runs one.
    public let directory: PostgresMatchDirectory?

    /// The tables' pieces for `instance`, with the budgets of `limits`.
    public init(instance: ControlInstance, limits: ControlPortLimits, directory: PostgresMatchDirectory? = nil) {
        let database = instance.database
        func limiter(_ name: String, _ rule: RateLimiter.Rule) -> PostgresRateLimiter {
            PostgresRateLimiter(name: name, rule: rule, database: database)
        }
        let byAccountAndAddress = limiter("login-failures-account-address", limits.failedLoginsPerAccountAndAddress)
        let byAccount = limiter("login-failures-account", limits.failedLoginsPerAccount)
        let byAddress = limiter("login-failures-address", limits.failedLoginsPerAddress)
        let registrations = limiter("registrations-address", limits.registrationsPerAddress)
        let chat = limiter("chat-messages-player", limits.chatMessagesPerPlayer)
        self.instance = instance
        presence = PostgresPresence(instance: instance)
        logins = LoginLimiters(
            failedByAccountAndAddress: byAccountAndAddress, failedByAccount: byAccount, failedByAddress: byAddress,
            registrationsByAddress: registrations, knownAddresses: PostgresLoginAddresses(database: database))
        chatMessages = chat
        limiters = [byAccountAndAddress, byAccount, byAddress, registrations, chat]
        self.directory = directory
    }

    /// Heartbeats, clean-up of dead instances and idle rows (see ``SharedTablesMaintenance``).
    public var maintenance: SharedTablesMaintenance { SharedTablesMaintenance(tables: self) }
}

extension SharedState {
    /// Presence and the abuse budgets from `tables`, shared with every instance on the
    /// database; the leaderboard cache and the chat relay still this process's own.
    static func postgresTables(_ tables: PostgresSharedTables, limits: ControlPortLimits, boards: any LeaderboardStore) -> SharedState {
        SharedState(
            leaderboards: LeaderboardCache(store: boards), presence: tables.presence, chat: ChatHub(limits: limits), logins: tables.logins,
            chatMessages: tables.chatMessages)
    }
}

extension ControlPlaneServices {
    /// Services on `stores`, with presence and the abuse budgets in `tables` (shared with the
    /// other control ports on the same PostgreSQL database), or, when it is nil, every piece of
    /// shared state in this process. The other parameters are those of
    /// ``make(database:hosting:minter:vault:passwordCost:maxConcurrentHashes:sessionLifetime:observability:matchLimits:limits:logger:)``.
    public static func make(
        stores: ControlPlaneStores, sharing tables: PostgresSharedTables?, hosting: any MatchHosting, minter: TokenMinter,
        vault: EmailVault, passwordCost: PasswordHasher.Cost = .interactive, maxConcurrentHashes: Int = 2,
        sessionLifetime: TimeInterval = 7 * 24 * 3600, observability: Observability = Observability(),
        matchLimits: MatchLimits = MatchLimits(), limits: ControlPortLimits = ControlPortLimits(),
        logger: Logger = Logger(label: "arbiter.control")
    ) async throws -> ControlPlaneServices {
        try await make(
            stores: stores, shared: tables.map { .postgresTables($0, limits: limits, boards: stores.leaderboards) }, hosting: hosting,
            minter: minter, vault: vault, passwordCost: passwordCost, maxConcurrentHashes: maxConcurrentHashes,
            sessionLifetime: sessionLifetime, observability: observability, matchLimits: matchLimits, limits: limits, logger: logger)
    }
}
