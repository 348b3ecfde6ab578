import Foundation
import MatchContract
import NetProtocol

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

/// The game-hosting side, as the control port sees it. The `arbiter` executable plugs in the
/// in-process game server; the same seam lets game servers run elsewhere later.
public protocol MatchHosting: Sendable {
    /// The games (modes and their maps) this host runs: game settings are validated against it.
    var catalog: GameCatalog { get }
    /// Starts a match for `gameID`; the returned id goes into the players' connect tokens.
    func createMatch(gameID: Int64, settings: MatchSettings) async throws -> MatchPlacement
    /// The live scoreboard, or nil if the host does not know the match (it ended, or crashed).
    func scoreboard(matchID: UInt64) async -> [ScoreLine]?
    /// Holds the match open for a connect token valid for `seconds` more, and says whether the
    /// host runs it. The join route hands out a token only after `true`: a token for a match the
    /// game server would refuse is never given. Throws when it cannot tell (the match directory
    /// in the database could not be read): the join then fails without abandoning the match.
    func reserve(matchID: UInt64, forSeconds seconds: Double) async throws -> Bool
    /// Where `GET /v1/play` hands WebSocket players: the game server's WebSocket side, when it
    /// takes them on this control port (nil: the route closes with `no_game_server`).
    var playGateway: (any PlayStreamGateway)? { get }
    /// Where clients reach `GET /v1/play` for `matchID`, when the deployment names it for the
    /// game server that runs the match (nil: `/v1/play` as the client reached this control port).
    func playEndpoint(matchID: UInt64) async -> PlayEndpoint?
}

extension MatchHosting {
    public var playGateway: (any PlayStreamGateway)? { nil }
    public func playEndpoint(matchID: UInt64) async -> PlayEndpoint? { nil }
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
