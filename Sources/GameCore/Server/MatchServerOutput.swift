/// Where a ``MatchServer`` puts what it wants done: packets to send and clients to disconnect.
/// The game server's UDP transport implements it; the virtual-time harness does too.
public protocol MatchServerOutput {
    /// Sends one packet (channel-layer bytes, at most one transport payload) to a client.
    mutating func send(_ packet: UnsafeRawBufferPointer, to client: Int)
    /// Ends a client's connection. The server has already forgotten it: a later
    /// ``MatchServer/clientDisconnected(_:reason:now:)`` for it is ignored.
    mutating func disconnect(_ client: Int)
}
