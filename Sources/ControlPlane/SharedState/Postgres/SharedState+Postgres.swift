import Foundation
import Logging

extension SharedState {
    /// The state several control ports on one PostgreSQL database share:
    /// - through `bus`, the ranked boards (``PostgresLeaderboardRanking``), the chat relay
    ///   (``PostgresChatRelay``) and session revocations (``PostgresSessionRevocations``, which
    ///   the relay closes sockets on);
    /// - in `tables`, presence and the abuse budgets (``PostgresSharedTables``).
    ///
    /// `arbiter serve` passes both. A nil `bus` or `tables` keeps that part in this process, for
    /// tests of the other part alone.
    static func postgres(
        database: PostgresDatabase, bus: PostgresNotificationBus?, tables: PostgresSharedTables?, limits: ControlPortLimits, logger: Logger
    ) -> SharedState {
        let boards = PostgresLeaderboardStore(database: database)
        let local = inProcess(limits: limits, boards: boards)
        var leaderboards = local.leaderboards
        var chat = local.chat
        var revocations = local.sessionRevocations
        if let bus {
            let shared = PostgresSessionRevocations(bus: bus, cache: local.sessions, logger: logger)
            revocations = shared
            leaderboards = PostgresLeaderboardRanking(store: boards, bus: bus, logger: logger)
            chat = PostgresChatRelay.make(limits: limits, database: database, bus: bus, revocations: shared, logger: logger)
        }
        return SharedState(
            leaderboards: leaderboards, presence: tables?.presence ?? local.presence, chat: chat,
            logins: tables?.logins ?? local.logins, chatMessages: tables?.chatMessages ?? local.chatMessages,
            sessions: local.sessions, sessionRevocations: revocations)
    }
}

extension ControlPlaneServices {
    /// Services on a PostgreSQL database shared with other control ports (see
    /// ``SharedState/postgres(database:bus:tables:limits:logger:)``). `database`, `bus` and
    /// `tables.maintenance` must be running (each is a `Service`).
    public static func make(
        postgres database: PostgresDatabase, bus: PostgresNotificationBus?, tables: PostgresSharedTables?, hosting: any MatchHosting,
        minter: TokenMinter, vault: EmailVault, settings: ControlPlaneSettings = ControlPlaneSettings()
    ) async throws -> ControlPlaneServices {
        try await make(
            stores: .postgres(database),
            shared: .postgres(database: database, bus: bus, tables: tables, limits: settings.limits, logger: settings.logger),
            hosting: hosting, minter: minter, vault: vault, settings: settings)
    }
}
