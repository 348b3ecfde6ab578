import PostgresNIO

/// ``LeaderboardStore`` on the PostgreSQL database.
struct PostgresLeaderboardStore: LeaderboardStore {
    let database: PostgresDatabase

    func board(_ key: String) async throws -> StoredLeaderboard? {
        // One statement, so that the board and its entries are one snapshot. The
        // (leaderboard_id, score DESC, player_id) index serves this order.
        let rows = try await database.rows(
            """
            SELECT b.operator, e.player_id, e.score FROM leaderboards b
            LEFT JOIN leaderboard_entries e ON e.leaderboard_id = b.id
            WHERE b.key = \(key) ORDER BY e.score DESC, e.player_id ASC
            """)
        guard let first = rows.first, let op = ScoreOperator(rawValue: try first.decode(String.self)) else { return nil }
        var entries: [RankedBoard.Entry] = []
        entries.reserveCapacity(rows.count)
        for row in rows {
            let (_, playerID, score) = try row.decode((String, Int64?, Int64?).self)
            if let playerID, let score { entries.append(.init(playerID: playerID, score: score)) }
        }
        return StoredLeaderboard(scoreOperator: op, entries: entries)
    }
}
