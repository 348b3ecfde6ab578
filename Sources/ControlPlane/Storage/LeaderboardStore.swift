/// The keys boards are stored under.
enum BoardKey {
    /// Every player's summed score.
    static let global = "global"

    /// A game's board: each player's best score in it.
    static func game(_ id: Int64) -> String { "game:\(id)" }

    /// The game a board belongs to, if it is a game's.
    static func gameID(of key: String) -> Int64? {
        guard key.hasPrefix("game:") else { return nil }
        return Int64(key.dropFirst(5))
    }
}

/// One entry a write set: the player's score on the board, after the board's operator combined it.
struct LeaderboardUpdate: Sendable, Equatable {
    var boardKey: String
    var playerID: Int64
    var score: Int64
}

/// A whole board as stored.
struct StoredLeaderboard: Sendable, Equatable {
    var scoreOperator: ScoreOperator
    /// In rank order: highest score first, ties by player id.
    var entries: [RankedBoard.Entry]
}

/// The leaderboards as stored. Their entries are written by ``ResultStore/record(_:)`` (in the
/// results' transaction) and the boards by ``GameStore/createGame(_:maxOpenPerCreator:)``.
protocol LeaderboardStore: Sendable {
    /// The board under `key`; nil when there is none.
    func board(_ key: String) async throws -> StoredLeaderboard?
}
