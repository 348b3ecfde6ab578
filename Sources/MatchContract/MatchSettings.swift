/// A match's configuration: what the control port stores per game, hands to the game server
/// that hosts the match, and what the game's rules start the match from. The valid ranges are
/// defined here once; the control port validates against them and the OpenAPI document quotes them.
public struct MatchSettings: Codable, Sendable, Equatable {
    /// The game mode: the name of the hosted ``GameCatalog`` entry (the game's rules).
    public var mode: String
    public var maxPlayers: Int
    /// Simulation ticks per second.
    public var tickRate: Int
    /// The match ends once a player reaches it (if the game has such a limit).
    public var scoreLimit: Int
    public var timeLimitSeconds: Int
    /// One of the mode's maps (``GameCatalog/maps(of:)``).
    public var map: String

    public static let maxPlayersRange = 2...64
    /// The protocol's ceiling; a server caps lower (`arbiter serve --max-tick-rate`).
    public static let tickRateRange = 10...240
    public static let scoreLimitRange = 1...100_000
    public static let timeLimitRange = 10...86_400

    public init(
        mode: String = "arena", maxPlayers: Int = 16, tickRate: Int = 60, scoreLimit: Int = 20, timeLimitSeconds: Int = 600,
        map: String = "default"
    ) {
        self.mode = mode
        self.maxPlayers = maxPlayers
        self.tickRate = tickRate
        self.scoreLimit = scoreLimit
        self.timeLimitSeconds = timeLimitSeconds
        self.map = map
    }

    /// Checks every field against its range, the tick rate against this server's cap, and the
    /// mode and map against what is hosted. The first violation is thrown.
    public func validate(against catalog: GameCatalog, maxTickRate: Int) throws(MatchSettingsError) {
        guard let maps = catalog.maps(of: mode) else {
            throw MatchSettingsError(field: "mode", message: "mode must be one of: \(catalog.modes.joined(separator: ", "))")
        }
        guard Self.maxPlayersRange.contains(maxPlayers) else {
            throw MatchSettingsError(field: "max_players", message: "max_players must be \(Self.describe(Self.maxPlayersRange))")
        }
        let tickRates = Self.tickRateRange.lowerBound...max(Self.tickRateRange.lowerBound, min(maxTickRate, Self.tickRateRange.upperBound))
        guard tickRates.contains(tickRate) else {
            throw MatchSettingsError(field: "tick_rate", message: "tick_rate must be \(Self.describe(tickRates)) on this server")
        }
        guard Self.scoreLimitRange.contains(scoreLimit) else {
            throw MatchSettingsError(field: "score_limit", message: "score_limit must be \(Self.describe(Self.scoreLimitRange))")
        }
        guard Self.timeLimitRange.contains(timeLimitSeconds) else {
            throw MatchSettingsError(field: "time_limit_seconds", message: "time_limit_seconds must be \(Self.describe(Self.timeLimitRange))")
        }
        guard maps.contains(map) else {
            throw MatchSettingsError(field: "map", message: "map must be one of: \(maps.sorted().joined(separator: ", "))")
        }
    }

    static func describe(_ range: ClosedRange<Int>) -> String { "\(range.lowerBound)...\(range.upperBound)" }
}

/// Settings that break a rule of ``MatchSettings``: which field, and a message for the user.
public struct MatchSettingsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field's wire name (snake case, as the HTTP API spells it).
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { message }
}
