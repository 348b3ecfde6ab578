import Foundation

/// What a finished match reports to the control port: each player's final line and placement.
/// The game server writes it to its durable outbox (this Codable form, so its field names are a
/// storage format too) and delivers it until the control port has recorded it.
public struct MatchReport: Sendable, Equatable, Codable {
    public struct Line: Sendable, Equatable, Codable {
        public var playerID: UInt64
        public var score: Int
        public var kills: Int
        public var deaths: Int
        /// 1 for the winner.
        public var placement: Int
        public var secondsPlayed: Double

        public init(playerID: UInt64, score: Int, kills: Int, deaths: Int, placement: Int, secondsPlayed: Double) {
            self.playerID = playerID
            self.score = score
            self.kills = kills
            self.deaths = deaths
            self.placement = placement
            self.secondsPlayed = secondsPlayed
        }
    }

    public var matchID: UInt64
    public var endedAt: Date
    /// In placement order.
    public var lines: [Line]
    /// The match did not finish (its server stopped, or no one ever connected): the session
    /// closes as `abandoned`, participations keep their time played, and no statistic, board or
    /// win changes.
    public var abandoned: Bool

    public init(matchID: UInt64, endedAt: Date, lines: [Line], abandoned: Bool = false) {
        self.matchID = matchID
        self.endedAt = endedAt
        self.lines = lines
        self.abandoned = abandoned
    }
}
