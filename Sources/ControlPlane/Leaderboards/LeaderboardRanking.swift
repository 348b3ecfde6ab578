/// One page of a board in rank order.
struct LeaderboardPage: Sendable {
    /// 1-based ranks.
    var entries: [(rank: Int, entry: RankedBoard.Entry)]
    var total: Int
    /// The 0-based rank the next page starts at; nil on the last.
    var nextRank: Int?
    var scoreOperator: ScoreOperator
}

/// The boards ranked for reading: pages served without sorting in the database, kept current by
/// being told every entry a committed write set. ``LeaderboardCache`` ranks in this process's
/// memory; several control ports would share a ranking instead (a sorted set elsewhere).
protocol LeaderboardRanking: Sendable {
    /// `limit` entries from 0-based `rank`, or centred on `player` when given
    /// (``StoreError/notFound(_:)`` when they are not on the board); nil when there is no board.
    func page(_ key: String, from rank: Int, limit: Int, around player: Int64?) async throws -> LeaderboardPage?
    /// Entries a write set, told once its transaction has committed.
    func apply(_ updates: [LeaderboardUpdate]) async
}
