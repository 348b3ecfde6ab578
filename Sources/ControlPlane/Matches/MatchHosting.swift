import Foundation
import NetProtocol

/// A game's settings as the game server needs them to run a match.
public struct MatchSettings: Codable, Sendable, Equatable {
    public var mode: String
    public var maxPlayers: Int
    public var tickRate: Int
    public var scoreLimit: Int
    public var timeLimitSeconds: Int
    public var map: String

    public init(mode: String, maxPlayers: Int, tickRate: Int, scoreLimit: Int, timeLimitSeconds: Int, map: String = "default") {
        self.mode = mode
        self.maxPlayers = maxPlayers
        self.tickRate = tickRate
        self.scoreLimit = scoreLimit
        self.timeLimitSeconds = timeLimitSeconds
        self.map = map
    }
}

/// Where a new match runs.
public struct MatchPlacement: Sendable, Equatable {
    public var matchID: UInt64
    /// The UDP address clients dial; it goes into their connect tokens.
    public var serverAddress: NetAddress

    public init(matchID: UInt64, serverAddress: NetAddress) {
        self.matchID = matchID
        self.serverAddress = serverAddress
    }
}

/// One line of a running match's scoreboard.
public struct LiveScore: Codable, Sendable, Equatable {
    public var playerID: Int64
    public var displayName: String
    public var score: Int
    public var kills: Int
    public var deaths: Int

    public init(playerID: Int64, displayName: String, score: Int, kills: Int, deaths: Int) {
        self.playerID = playerID
        self.displayName = displayName
        self.score = score
        self.kills = kills
        self.deaths = deaths
    }
}

/// The game-hosting side, as the control port sees it. The `arbiter` executable plugs in the
/// in-process game server; the same seam lets game servers run elsewhere later.
public protocol MatchHosting: Sendable {
    /// Starts a match for `gameID`; the returned id goes into the players' connect tokens.
    func createMatch(gameID: Int64, settings: MatchSettings) async throws -> MatchPlacement
    /// The live scoreboard, or nil if the host does not know the match (it ended, or crashed).
    func scoreboard(matchID: UInt64) async -> [LiveScore]?
    /// Holds the match open for a connect token valid for `seconds` more, and says whether the
    /// host runs it. The join route hands out a token only after `true`: a token for a match the
    /// game server would refuse is never given.
    func reserve(matchID: UInt64, forSeconds seconds: Double) async -> Bool
}

/// What a match reports when it ends.
public struct MatchResults: Sendable, Equatable {
    public struct PlayerResult: Sendable, Equatable {
        public var playerID: Int64
        public var score: Int
        public var kills: Int
        public var deaths: Int
        /// 1 for the winner.
        public var placement: Int
        public var timePlayedSeconds: Double

        public init(playerID: Int64, score: Int, kills: Int, deaths: Int, placement: Int, timePlayedSeconds: Double) {
            self.playerID = playerID
            self.score = score
            self.kills = kills
            self.deaths = deaths
            self.placement = placement
            self.timePlayedSeconds = timePlayedSeconds
        }
    }

    public var matchID: UInt64
    public var endedAt: Date
    public var players: [PlayerResult]
    /// The match did not finish (its server stopped, or no one connected): the session is
    /// closed as `abandoned`, participations keep their time played, and no statistic, board or
    /// win changes.
    public var abandoned: Bool

    public init(matchID: UInt64, endedAt: Date, players: [PlayerResult], abandoned: Bool = false) {
        self.matchID = matchID
        self.endedAt = endedAt
        self.players = players
        self.abandoned = abandoned
    }
}

/// Mints the connect tokens the join route hands out: sealed with the key the game servers
/// share, naming the server, the match and the player.
public struct TokenMinter: Sendable {
    public let privateKey: SymmetricKey
    public let protocolID: UInt64
    /// Seconds a token stays valid for its first connect.
    public var expireSeconds: Int64 = 60
    /// Seconds of silence before client or server gives up.
    public var timeoutSeconds: Int32 = 10

    public init(privateKey: SymmetricKey, protocolID: UInt64) {
        self.privateKey = privateKey
        self.protocolID = protocolID
    }

    func mint(server: NetAddress, ticket: MatchTicket, clientID: UInt64) throws -> ConnectToken {
        var random = SystemRandomSource()
        return try ConnectToken.generate(
            publicAddresses: [server], expireSeconds: expireSeconds, timeoutSeconds: timeoutSeconds, clientID: clientID,
            protocolID: protocolID, privateKey: privateKey, userData: ticket.encoded(),
            nowUnix: UInt64(max(0, Date().timeIntervalSince1970)), random: &random)
    }
}
