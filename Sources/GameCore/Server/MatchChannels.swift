import NetProtocol

/// The channels of a match connection and the settings both ends use: one definition for the
/// game server, the client SDK and the fuzz harness. Documented in docs/PROTOCOL.md.
public enum MatchChannels {
    /// Reliable-ordered messages, echoed back by the server (end-to-end reliability checks).
    public static let reliable = 0
    /// Server to client: snapshots too large for one packet (reliable-unordered).
    public static let largeSnapshot = 1
    /// Client to server: input messages and the spectate request (unreliable).
    public static let input = 2
    /// Server to client: snapshots (unreliable-sequenced).
    public static let snapshot = 3
    /// Channels the server never reads: what arrives on them is dropped, never buffered.
    public static let unreadByServer = [largeSnapshot, snapshot]

    /// Per-player connections are many, so each window is sized to its traffic: channel 0
    /// carries occasional reliable messages (64 in flight, 8 KiB each at most), channel 1 the
    /// rare snapshot too large for one packet (16, 32 KiB at most), channels 2 and 3 one input
    /// and one snapshot per tick (unreliable: a handful queued, one packet each). 128 packets of
    /// history is two seconds at 60 Hz, four times the ack window. The memory budget is 1 MiB
    /// (the game server sets its own from its limits).
    public static func connectionConfiguration() -> ConnectionConfiguration {
        let windows = [64, 16, 8, 8]
        let largest = [8 * 1024, 32 * 1024, Netcode.maxPayloadBytes, Netcode.maxPayloadBytes]
        var configuration = ConnectionConfiguration(
            channels: zip(ChannelKind.allCases, zip(windows, largest)).map { kind, sizes in
                ChannelConfiguration(kind: kind, sendQueueSize: sizes.0, receiveQueueSize: sizes.0, maxMessageBytes: sizes.1)
            },
            sentPacketHistory: 128, receivedPacketHistory: 128, maxReassemblyBytes: 256 * 1024, memoryBudgetBytes: 1024 * 1024)
        configuration.budgetBytesPerTick = 16 * 1024
        return configuration
    }
}
