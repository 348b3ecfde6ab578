import GRDB

/// ``LeaderboardStore`` on the SQLite database.
struct SQLiteLeaderboardStore: LeaderboardStore {
    let database: AppDatabase

    func board(_ key: String) async throws -> StoredLeaderboard? {
        try await database.writer.read { db -> StoredLeaderboard? in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, operator FROM leaderboards WHERE key = ?", arguments: [key]),
                let op = ScoreOperator(rawValue: row["operator"])
            else { return nil }
            let id: Int64 = row["id"]
            // The (leaderboard_id, score, player_id) index serves this order.
            let rows = try Row.fetchCursor(
                db, sql: "SELECT player_id, score FROM leaderboard_entries WHERE leaderboard_id = ? ORDER BY score DESC, player_id ASC",
                arguments: [id])
            var entries: [RankedBoard.Entry] = []
            while let row = try rows.next() { entries.append(.init(playerID: row["player_id"], score: row["score"])) }
            return StoredLeaderboard(scoreOperator: op, entries: entries)
        }
    }
}
