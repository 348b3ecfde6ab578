import NetProtocol

/// How a WebSocket play connection (`GET /v1/play?token=…`) ends: the close code the server
/// sends, and the name it is counted under (`websocket.closes` in `GET /v1/server/stats`,
/// `arbiter_websocket_closes_total{reason}` in `/metrics`). The table is in docs/PROTOCOL.md,
/// "WebSocket transport".
///
/// 4000–4005 refuse the connect token, as a UDP connection request would be refused (dropped and
/// counted) for the same reason; 4006–4009 are the bounds a connection broke; 4010–4013 end a
/// connection that was playing.
public enum PlayCloseCode: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    /// The client closed (or the socket dropped). Nothing is sent back but the close reply.
    case peerClosed = 1000
    /// Not a connect token: missing, not base64, not 2048 bytes, another protocol id or version.
    case badToken = 4000
    /// The token has expired.
    case tokenExpired = 4001
    /// The token was used before, over UDP or WebSocket: a token opens one connection.
    case tokenUsed = 4002
    /// The token does not decrypt with this server's key, or names another game server or game
    /// worker.
    case wrongServer = 4003
    /// The token's client is connected already.
    case alreadyConnected = 4004
    /// No room: the game worker's client slots, or the control port's WebSocket players.
    case serverFull = 4005
    /// A frame larger than one channel packet (1200 bytes).
    case frameTooLarge = 4006
    /// A text frame, or a message split over several frames: one binary frame is one packet.
    case notBinaryFrame = 4007
    /// Frames faster than the connection's rate allows.
    case rateLimited = 4008
    /// The client read its frames too slowly: its outbound buffer filled.
    case tooSlow = 4009
    /// Nothing arrived for the token's timeout.
    case timedOut = 4010
    /// The game server ended the connection: the match ended, admission refused it, or the
    /// channel layer closed it for a protocol fault.
    case disconnected = 4011
    /// The game server is shutting down.
    case serverShutdown = 4012
    /// This control port hosts no game server.
    case noGameServer = 4013

    public var description: String {
        switch self {
        case .peerClosed: "peer_closed"
        case .badToken: "bad_token"
        case .tokenExpired: "token_expired"
        case .tokenUsed: "token_used"
        case .wrongServer: "wrong_server"
        case .alreadyConnected: "already_connected"
        case .serverFull: "server_full"
        case .frameTooLarge: "frame_too_large"
        case .notBinaryFrame: "not_binary_frame"
        case .rateLimited: "rate_limited"
        case .tooSlow: "too_slow"
        case .timedOut: "timed_out"
        case .disconnected: "disconnected"
        case .serverShutdown: "server_shutdown"
        case .noGameServer: "no_game_server"
        }
    }

    /// The code for a connect token the game worker refused.
    public init(_ refusal: StreamRefusal) {
        switch refusal {
        case .malformedToken: self = .badToken
        case .tokenExpired: self = .tokenExpired
        case .tokenAlreadyUsed: self = .tokenUsed
        case .tokenInvalid, .serverAddressNotInToken: self = .wrongServer
        case .clientIDAlreadyConnected: self = .alreadyConnected
        case .serverFull: self = .serverFull
        }
    }

    /// The code for a connection the game worker released.
    public init(_ reason: DisconnectReason) {
        switch reason {
        case .peerDisconnected: self = .peerClosed
        case .localDisconnect: self = .disconnected
        case .timedOut: self = .timedOut
        case .serverShutdown: self = .serverShutdown
        }
    }
}
