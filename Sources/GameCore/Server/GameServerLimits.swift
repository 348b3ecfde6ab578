/// What one peer, and all peers together, may make the game server hold or do. Every value is
/// a default a deployment can change (`arbiter serve` flags).
public struct GameServerLimits: Sendable, Equatable {
    /// Bytes one connection may make the server hold: send queues (echoes included) until
    /// acknowledged, receive queues, reassemblies, messages waiting for an earlier id, and the
    /// connection's fixed packet history. Over it the peer is back-pressured, then disconnected
    /// with `over_budget`.
    public var connectionBudgetBytes: Int
    /// Seconds a peer may keep its connection pressed against the budget before it is
    /// disconnected.
    public var overBudgetGraceSeconds: Double
    /// Bytes all connections together may hold.
    public var totalBudgetBytes: Int
    /// Packets per second a peer may have processed, sustained, and the burst above that; the
    /// rest are dropped before any channel work. Generous for a client at 128 Hz (one input and
    /// one ack packet a tick) and still a small share of the thread.
    public var packetsPerSecond: Double
    public var packetBurst: Double

    public init(
        connectionBudgetBytes: Int = 1024 * 1024, overBudgetGraceSeconds: Double = 2, totalBudgetBytes: Int = 768 * 1024 * 1024, packetsPerSecond: Double = 600,
        packetBurst: Double = 120
    ) {
        self.connectionBudgetBytes = connectionBudgetBytes
        self.overBudgetGraceSeconds = overBudgetGraceSeconds
        self.totalBudgetBytes = totalBudgetBytes
        self.packetsPerSecond = packetsPerSecond
        self.packetBurst = packetBurst
    }
}
