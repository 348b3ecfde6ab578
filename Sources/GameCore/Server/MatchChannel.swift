import NetProtocol

/// The channels of a match connection, and the settings both ends use: one definition for the
/// match server, the client SDK, the virtual-time harness and the fuzz harness. Documented in
/// docs/PROTOCOL.md.
public enum MatchChannel: Int, CaseIterable, Sendable {
    /// Reliable-ordered messages, echoed back by the server (end-to-end reliability checks).
    case reliable = 0
    /// Server to client: snapshots too large for one packet (reliable-unordered).
    case largeSnapshot = 1
    /// Client to server: input messages and the spectate request (unreliable).
    case input = 2
    /// Server to client: snapshots (unreliable-sequenced).
    case snapshot = 3

    /// Channels the server never reads: what arrives on them is dropped, never buffered.
    public static let unreadByServer: [MatchChannel] = [.largeSnapshot, .snapshot]
    /// Where snapshots arrive at the client, large ones first.
    public static let snapshotChannels: [MatchChannel] = [.largeSnapshot, .snapshot]

    /// The channel for a snapshot of `bytes`: one packet's worth goes unreliable-sequenced.
    public static func forSnapshot(ofSize bytes: Int, configuration: ConnectionConfiguration) -> MatchChannel {
        bytes <= configuration.maxUnreliableMessageBytes ? .snapshot : .largeSnapshot
    }

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

    /// The configuration a game server with `limits` uses (its per-connection budget and grace).
    public static func connectionConfiguration(limits: GameServerLimits) -> ConnectionConfiguration {
        var configuration = connectionConfiguration()
        configuration.memoryBudgetBytes = limits.connectionBudgetBytes
        configuration.overBudgetGraceSeconds = limits.overBudgetGraceSeconds
        return configuration
    }
}

/// Message kinds on the input channel besides input messages.
public enum MatchMessage {
    /// "I only watch": the server removes the client's player and sends it the whole world.
    public static let spectate: UInt8 = 3
}

extension ChannelConnection {
    @discardableResult
    public func send(_ message: [UInt8], on channel: MatchChannel) throws(ChannelSendError) -> MessageHandle? {
        try send(message, on: channel.rawValue)
    }
    public func receive(on channel: MatchChannel) -> [UInt8]? { receive(on: channel.rawValue) }
    public func withNextMessage<R>(on channel: MatchChannel, _ body: ([UInt8]) -> R) -> R? { withNextMessage(on: channel.rawValue, body) }
}
