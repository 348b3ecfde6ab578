import NetProtocol

/// What happened inside a ``MatchServer`` that its driver logs and counts. Each departure is
/// reported once, with the reason it really happened for.
public enum MatchServerEvent: Equatable, Sendable {
    case joined(matchID: UInt64, playerID: UInt64)
    /// The ticket named a match this server does not run, or a full one.
    case turnedAway(clientID: UInt64, matchID: UInt64, admission: MatchAdmission)
    case spectating(matchID: UInt64, playerID: UInt64)
    case left(matchID: UInt64, playerID: UInt64, reason: LeaveReason)
    case matchEnded(matchID: UInt64)
}

/// Why a player left a match.
public enum LeaveReason: Equatable, Sendable, CustomStringConvertible {
    /// The transport ended the connection: the peer disconnected, timed out, or the server is
    /// shutting down.
    case disconnected(DisconnectReason)
    /// The peer broke the channel protocol (or held its budget too long) and was disconnected.
    case fault(ChannelFault)
    /// Its match ended.
    case matchEnded

    /// A stable label for logs and metrics.
    public var kind: String {
        switch self {
        case .disconnected(let reason): reason.description
        case .fault(.overBudget): "over_budget"
        case .fault: "protocol_violation"
        case .matchEnded: "match_ended"
        }
    }

    /// Every ``kind`` there is (for metrics with bounded labels).
    public static let kinds = [
        "peer_disconnected", "local_disconnect", "timed_out", "server_shutdown", "protocol_violation", "over_budget", "match_ended",
    ]

    public var description: String {
        switch self {
        case .fault(let fault): "\(kind): \(fault)"
        default: kind
        }
    }
}
