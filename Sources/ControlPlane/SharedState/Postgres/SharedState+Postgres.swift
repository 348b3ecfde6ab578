import Foundation
import Logging

extension SharedState {
    /// The state several control ports on one PostgreSQL database share through `bus`: the ranked
    /// boards (``PostgresLeaderboardRanking``), the chat relay (``PostgresChatRelay``) and the
    /// session ends it closes sockets on. Presence, the login budgets and the chat rate limit
    /// are still this process's own here.
    static func postgres(database: PostgresDatabase, bus: PostgresNotificationBus, limits: ControlPortLimits, logger: Logger) -> SharedState {
        let local = inProcess(limits: limits, boards: PostgresLeaderboardStore(database: database))
        let sessionEnds = PostgresSessionEnds(bus: bus, logger: logger)
        return SharedState(
            leaderboards: PostgresLeaderboardRanking(store: PostgresLeaderboardStore(database: database), bus: bus, logger: logger),
            presence: local.presence,
            chat: PostgresChatRelay.make(limits: limits, database: database, bus: bus, sessionEnds: sessionEnds, logger: logger),
            logins: local.logins, chatMessages: local.chatMessages, sessionEnds: sessionEnds)
    }
}

extension ControlPlaneServices {
    /// Services on a PostgreSQL database, sharing boards, chat and session ends with the other
    /// control ports on it through `bus` (see ``SharedState/postgres(database:bus:limits:logger:)``).
    /// Both `database` and `bus` must be running (each is a `Service`).
    public static func make(
        postgres database: PostgresDatabase, bus: PostgresNotificationBus, hosting: any MatchHosting, minter: TokenMinter, vault: EmailVault,
        passwordCost: PasswordHasher.Cost = .interactive, maxConcurrentHashes: Int = 2,
        sessionLifetime: TimeInterval = 7 * 24 * 3600, observability: Observability = Observability(),
        matchLimits: MatchLimits = MatchLimits(), limits: ControlPortLimits = ControlPortLimits(),
        logger: Logger = Logger(label: "arbiter.control")
    ) async throws -> ControlPlaneServices {
        try await make(
            stores: .postgres(database), shared: .postgres(database: database, bus: bus, limits: limits, logger: logger), hosting: hosting,
            minter: minter, vault: vault, passwordCost: passwordCost, maxConcurrentHashes: maxConcurrentHashes, sessionLifetime: sessionLifetime,
            observability: observability, matchLimits: matchLimits, limits: limits, logger: logger)
    }
}
