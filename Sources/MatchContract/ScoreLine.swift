/// One player's line on a match's scoreboard: what the game's rules report as it runs, what the
/// control port's scoreboard route shows, and what final standings are made of.
public struct ScoreLine: Codable, Sendable, Equatable {
    public var playerID: UInt64
    public var displayName: String
    public var score: Int
    public var kills: Int
    public var deaths: Int

    public init(playerID: UInt64, displayName: String, score: Int, kills: Int = 0, deaths: Int = 0) {
        self.playerID = playerID
        self.displayName = displayName
        self.score = score
        self.kills = kills
        self.deaths = deaths
    }
}
