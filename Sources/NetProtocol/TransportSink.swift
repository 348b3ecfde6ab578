/// Receives what an endpoint wants to send. The bytes are only valid during the call: copy them
/// (a driver copies straight into its sendmmsg batch).
public protocol DatagramSink {
    mutating func transmit(_ datagram: UnsafeRawBufferPointer, to address: NetAddress)
}

/// Why a connection ended.
public enum DisconnectReason: Sendable, Equatable, CustomStringConvertible {
    /// The peer sent disconnect packets.
    case peerDisconnected
    /// This side called `disconnect`.
    case localDisconnect
    /// Nothing arrived for the token's timeout.
    case timedOut
    /// The server is shutting down.
    case serverShutdown

    public var description: String {
        switch self {
        case .peerDisconnected: "peer_disconnected"
        case .localDisconnect: "local_disconnect"
        case .timedOut: "timed_out"
        case .serverShutdown: "server_shutdown"
        }
    }
}

/// What a ``ServerEndpoint`` reports.
public enum ServerEvent {
    case connected(clientIndex: Int, clientID: UInt64, address: NetAddress)
    /// A payload from a connected client; `bytes` is valid only during the sink call.
    case payload(clientIndex: Int, bytes: UnsafeRawBufferPointer)
    case disconnected(clientIndex: Int, clientID: UInt64, address: NetAddress, reason: DisconnectReason)
}

/// Receives a server's datagrams and events.
public protocol ServerSink: DatagramSink {
    mutating func serverEvent(_ event: ServerEvent)
    /// A payload for a stream client (``ServerEndpoint/admitStream(connectToken:peer:now:sink:)``),
    /// which the driver carries as one frame of that client's stream; valid only during the call.
    mutating func transmit(_ payload: UnsafeRawBufferPointer, toStream clientIndex: Int)
}

extension ServerSink {
    /// Sinks of drivers that admit no stream clients never get a stream payload.
    public mutating func transmit(_ payload: UnsafeRawBufferPointer, toStream clientIndex: Int) {}
}

/// What a ``ClientEndpoint`` reports.
public enum ClientEvent {
    case stateChanged(from: ClientState, to: ClientState)
    /// A payload from the server; `bytes` is valid only during the sink call.
    case payload(bytes: UnsafeRawBufferPointer)
}

/// Receives a client's datagrams and events.
public protocol ClientSink: DatagramSink {
    mutating func clientEvent(_ event: ClientEvent)
}
