import NetProtocol

/// The bounds of WebSocket play connections. Every value is a default a deployment can change.
public struct PlayStreamLimits: Sendable, Equatable {
    /// The largest frame a client may send: one channel packet, as a UDP payload.
    public var maxFrameBytes: Int
    /// Frames per second a connection may send, sustained, and the burst above that; over it the
    /// connection is closed (`rate_limited`). TCP delivers late frames together, so the burst is
    /// deeper than the game server's per-peer packet allowance, which still applies behind it.
    public var framesPerSecond: Double
    public var frameBurst: Double
    /// WebSocket players at once on this control port, over all game workers.
    public var maxPlayers: Int
    /// Frames a connection may have waiting for its socket; a client that reads slower than that
    /// is closed (`too_slow`) rather than letting the game worker wait or the memory grow.
    public var outboundFrames: Int

    public init(
        maxFrameBytes: Int = Netcode.maxPayloadBytes, framesPerSecond: Double = 600, frameBurst: Double = 240, maxPlayers: Int = 1024,
        outboundFrames: Int = 64
    ) {
        self.maxFrameBytes = maxFrameBytes
        self.framesPerSecond = framesPerSecond
        self.frameBurst = frameBurst
        self.maxPlayers = maxPlayers
        self.outboundFrames = outboundFrames
    }
}

/// The game server's WebSocket side, as the socket's owner (the control port's `/v1/play` route)
/// sees it. The game server implements it; the route feeds it frames and writes out what it
/// gives back, and never learns which game worker or match a connection plays in.
public protocol PlayStreamGateway: Sendable {
    var limits: PlayStreamLimits { get }
    /// Opens a session for a connect token (the 2048 bytes of the join answer's
    /// `connect_token`, decoded; anything else is refused with ``PlayCloseCode/badToken``).
    /// Never waits: the token is checked on its game worker's thread, and a refusal arrives as the
    /// session's end.
    /// - Parameter peer: the socket's remote address, for the game server's logs.
    func open(connectToken: [UInt8], peer: NetAddress) -> any PlayStreamSession
}

/// One WebSocket player, between its socket and its game worker. Thread-safe; no call blocks
/// on the game worker, and the game worker never waits for the socket.
public protocol PlayStreamSession: AnyObject, Sendable {
    /// One binary frame from the client: a channel packet, queued for the game worker's next
    /// pass (dropped and counted when that queue is full, as the kernel drops datagrams).
    func receive(_ frame: UnsafeRawBufferPointer)
    /// Waits until there is something to send, then hands each waiting frame (a channel packet)
    /// to `body` in order and returns nil; once the session has ended and its last frames were
    /// handed over, returns why. Returns at once when the calling task is cancelled
    /// (``PlayCloseCode/peerClosed`` if the session has not ended).
    func nextOutbound(_ body: (UnsafeRawBufferPointer) -> Void) async -> PlayCloseCode?
    /// The socket's side ended the session: the client closed (``PlayCloseCode/peerClosed``) or
    /// broke a bound. The game worker frees the client's slot as for a UDP disconnect. Only the
    /// first end counts.
    func close(_ code: PlayCloseCode)
}
