import MatchContract

/// A player's totals over every match they finished.
struct PlayerStatistics: Codable, Sendable, Equatable {
    var gamesPlayed = 0
    var wins = 0
    var kills = 0
    var deaths = 0
    var totalScore = 0
    var bestScore = 0
    var timePlayedSeconds = 0.0

    enum CodingKeys: String, CodingKey {
        case gamesPlayed, wins, kills, deaths, totalScore, bestScore, timePlayedSeconds
    }

    /// Time played goes out to the millisecond (a sum of doubles is not `60.00054438899997`).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(gamesPlayed, forKey: .gamesPlayed)
        try container.encode(wins, forKey: .wins)
        try container.encode(kills, forKey: .kills)
        try container.encode(deaths, forKey: .deaths)
        try container.encode(totalScore, forKey: .totalScore)
        try container.encode(bestScore, forKey: .bestScore)
        try container.encode((timePlayedSeconds * 1000).rounded() / 1000, forKey: .timePlayedSeconds)
    }
}

/// What storing a match's report did.
enum RecordedResults: Sendable, Equatable {
    /// Stored; `boardUpdates` are the leaderboard entries it set, for the ranking to apply.
    case recorded(boardUpdates: [LeaderboardUpdate])
    /// The session had ended already (a repeated report): nothing changed.
    case duplicate
    /// No session has this match id.
    case unknownMatch
}

/// Match results and the statistics they add up to.
protocol ResultStore: Sendable {
    /// Stores what a match reported in one transaction: the session's end (as finished, or as
    /// abandoned), every player's score, kills, deaths, placement and time played, and, unless
    /// it was abandoned, their statistics (a win needs at least two players) and their entries on
    /// the global board and the game's board. Players who no longer exist are skipped.
    /// `results` is as ``ResultsRecorder/storable(_:)`` makes it: one line per player, counts
    /// within bounds.
    func record(_ results: MatchReport) async throws -> RecordedResults
    /// `player`'s statistics: all zero for one who has finished no match (or does not exist).
    func statistics(of player: Int64) async throws -> PlayerStatistics
}
