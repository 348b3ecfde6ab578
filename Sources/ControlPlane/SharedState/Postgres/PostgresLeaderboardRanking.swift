import Logging

/// The boards ranked in each control port's memory (a ``LeaderboardCache``), kept current
/// across control ports on one PostgreSQL database: every result's transaction notifies the
/// entries it set (``BoardNotices``), and every instance, this one included, applies them in
/// commit order as they arrive. After the listener reconnects, the loaded boards are dropped and
/// load afresh from the tables, since entries may have been set while nobody listened.
///
/// ``apply(_:)`` (what ``ResultsRecorder`` calls after a result commits) does nothing: the
/// result's own notification brings the same entries back in commit order, whereas applying
/// them here as well could land after a later result's entries and leave an older score.
final class PostgresLeaderboardRanking: LeaderboardRanking, BusConsumer {
    let cache: LeaderboardCache
    private let logger: Logger

    init(store: any LeaderboardStore, bus: PostgresNotificationBus, logger: Logger = Logger(label: "arbiter.boards")) {
        cache = LeaderboardCache(store: store)
        self.logger = logger
        bus.subscribe(self, to: [.boards])
    }

    func page(_ key: String, from rank: Int, limit: Int, around player: Int64?) async throws -> LeaderboardPage? {
        try await cache.page(key, from: rank, limit: limit, around: player)
    }

    func apply(_ updates: [LeaderboardUpdate]) async {}

    func receive(_ topic: BusTopic, _ body: Substring) async {
        guard let updates = BoardNotices.updates(in: body) else {
            logger.warning("ignored a malformed board notification", metadata: ["body": "\(body.prefix(64))"])
            await cache.forgetLoadedBoards()
            return
        }
        await cache.apply(updates)
    }

    func recover() async { await cache.forgetLoadedBoards() }
}
