import Foundation
import Logging

extension SharedState {
    /// The state several control ports on one PostgreSQL database share through `bus`: the ranked
    /// boards (``PostgresLeaderboardRanking``), the chat relay (``PostgresChatRelay``) and session
    /// revocations (``PostgresSessionRevocations``, which the relay closes sockets on). Presence,
    /// the login budgets and the chat rate limit are still this process's own here.
    static func postgres(database: PostgresDatabase, bus: PostgresNotificationBus, limits: ControlPortLimits, logger: Logger) -> SharedState {
        let local = inProcess(limits: limits, boards: PostgresLeaderboardStore(database: database))
        let revocations = PostgresSessionRevocations(bus: bus, cache: local.sessions, logger: logger)
        return SharedState(
            leaderboards: PostgresLeaderboardRanking(store: PostgresLeaderboardStore(database: database), bus: bus, logger: logger),
            presence: local.presence,
            chat: PostgresChatRelay.make(limits: limits, database: database, bus: bus, revocations: revocations, logger: logger),
            logins: local.logins, chatMessages: local.chatMessages, sessions: local.sessions, sessionRevocations: revocations)
    }
}

extension ControlPlaneServices {
    /// Services on a PostgreSQL database, sharing boards, chat and session revocations with the
    /// other control ports on it through `bus` (see ``SharedState/postgres(database:bus:limits:logger:)``).
    /// Both `database` and `bus` must be running (each is a `Service`).
    public static func make(
        postgres database: PostgresDatabase, bus: PostgresNotificationBus, hosting: any MatchHosting, minter: TokenMinter, vault: EmailVault,
        settings: ControlPlaneSettings = ControlPlaneSettings()
    ) async throws -> ControlPlaneServices {
        try await make(
            stores: .postgres(database), shared: .postgres(database: database, bus: bus, limits: settings.limits, logger: settings.logger),
            hosting: hosting, minter: minter, vault: vault, settings: settings)
    }
}
