import MatchContract
import NetProtocol

/// A match a host in this process runs, as the match directory in the database lists it for
/// the other control ports.
public struct HostedMatch: Sendable, Equatable {
    public var matchID: UInt64
    /// The address of the worker that runs it.
    public var serverAddress: NetAddress
    public var scoreboard: [ScoreLine]
    /// While nobody is connected: when the match ends unless someone connects, on the host's
    /// clock (``LocalMatchHosting/now()``). Nil while anyone is.
    public var emptyUntil: Double?

    public init(matchID: UInt64, serverAddress: NetAddress, scoreboard: [ScoreLine], emptyUntil: Double?) {
        self.matchID = matchID
        self.serverAddress = serverAddress
        self.scoreboard = scoreboard
        self.emptyUntil = emptyUntil
    }
}

/// A game server in this process (the in-process one), which the match directory in the
/// database lists (``DirectoryMatchHosting``): its matches, so that a join arriving at another
/// control port reserves them instead of abandoning them.
public protocol LocalMatchHosting: MatchHosting {
    /// The UDP addresses clients dial for this host's matches (one per worker).
    var serverAddresses: [NetAddress] { get }
    /// The host's clock (monotonic seconds): what ``HostedMatch/emptyUntil`` is on.
    func now() -> Double
    /// Every match running here.
    func runningMatches() -> [HostedMatch]
    /// Where clients reach this host's `GET /v1/play` (`arbiter serve --play-url`), listed in
    /// the directory beside its addresses so that a join answered by another instance names it.
    var publicPlayEndpoint: PlayEndpoint? { get }
}

extension LocalMatchHosting {
    public var publicPlayEndpoint: PlayEndpoint? { nil }
    /// Every match here is played at this host's endpoint.
    public func playEndpoint(matchID: UInt64) async -> PlayEndpoint? { publicPlayEndpoint }
}
