import MatchContract
import NetProtocol

/// The game server's WebSocket door: a connect token goes to the game worker whose address it
/// names (the same address a UDP client would dial), where the worker's endpoint checks it as it
/// checks a UDP connection request, and the connection becomes one of its client slots.
///
/// It does not listen itself: whoever owns the sockets (the control port's `/v1/play` route, or
/// a listener of a standalone game server's own) calls ``open(connectToken:peer:)`` for each.
public final class StreamGateway: PlayStreamGateway {
    /// A game worker: the address its tokens name, and its inbox (``TransportServer/attachStreams(_:)``).
    public struct Route: Sendable {
        public let address: NetAddress
        public let inbox: StreamInbox

        public init(address: NetAddress, inbox: StreamInbox) {
            self.address = address
            self.inbox = inbox
        }
    }

    public let limits: PlayStreamLimits
    private let routes: [Route]
    private let counters = PlayStreamCounters()

    public init(routes: [Route], limits: PlayStreamLimits = PlayStreamLimits()) {
        self.routes = routes
        self.limits = limits
    }

    public func open(connectToken: [UInt8], peer: NetAddress) -> any PlayStreamSession {
        guard counters.open(limit: limits.maxPlayers) else { return refused(.serverFull, heldPlace: false) }
        // The public part names the worker; the worker trusts only the sealed part.
        guard let token = try? ConnectToken(decoding: connectToken) else { return refused(.badToken, heldPlace: true) }
        guard let route = routes.first(where: { token.serverAddresses.contains($0.address) }) else {
            return refused(.wrongServer, heldPlace: true)
        }
        let connection = PlayStreamConnection(inbox: route.inbox, outboundFrames: limits.outboundFrames, counters: counters, heldPlace: true)
        if !route.inbox.submitOpen(connection, token: connectToken, peer: peer) { connection.end(.serverShutdown) }
        return connection
    }

    /// The counts `GET /v1/server/stats` serves under `websocket`.
    public var stats: ServerStatsReport.WebSocket { counters.report }

    private func refused(_ code: PlayCloseCode, heldPlace: Bool) -> PlayStreamConnection {
        let connection = PlayStreamConnection(inbox: nil, outboundFrames: 1, counters: counters, heldPlace: heldPlace)
        connection.end(code)
        return connection
    }
}
