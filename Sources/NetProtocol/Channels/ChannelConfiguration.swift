/// The four kinds of channel. A connection carries an ordered list of channels; the order is
/// their priority when packets are filled.
public enum ChannelKind: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Every message arrives exactly once, in the order sent. Large messages allowed.
    case reliableOrdered = "reliable_ordered"
    /// Every message arrives exactly once, as soon as it arrives. Large messages allowed.
    case reliableUnordered = "reliable_unordered"
    /// Messages arrive at most once, in any order; what does not fit in this tick's packets is
    /// dropped.
    case unreliableUnordered = "unreliable_unordered"
    /// Like unreliable-unordered, but a message older than one already delivered is dropped.
    case unreliableSequenced = "unreliable_sequenced"

    public var isReliable: Bool { self == .reliableOrdered || self == .reliableUnordered }
    public var description: String { rawValue }
}

/// One channel's settings. Both ends of a connection must use the same list.
public struct ChannelConfiguration: Sendable, Equatable {
    public var kind: ChannelKind
    /// Messages that may wait for an acknowledgement (reliable) or for a packet (unreliable).
    /// Sending beyond it fails with ``ChannelSendError/queueFull``. A power of two, 1...32768.
    public var sendQueueSize: Int
    /// Messages the receiver holds for the application. Reliable channels: a power of two,
    /// 1...32768, at least `sendQueueSize`.
    public var receiveQueueSize: Int
    /// Largest message, in bytes. Reliable channels split anything over the connection's
    /// fragment size into fragments, up to this (default 256 KiB). Unreliable channels cap it at
    /// what fits in one packet.
    public var maxMessageBytes: Int

    public init(kind: ChannelKind, sendQueueSize: Int = 1024, receiveQueueSize: Int = 1024, maxMessageBytes: Int = 256 * 1024) {
        self.kind = kind
        self.sendQueueSize = sendQueueSize
        self.receiveQueueSize = receiveQueueSize
        self.maxMessageBytes = maxMessageBytes
    }
}

/// Settings of a ``ChannelConnection``. Defaults suit a 60 Hz game over the netcode transport.
public struct ConnectionConfiguration: Sendable, Equatable {
    /// The channels, in priority order (at most 64).
    public var channels: [ChannelConfiguration]
    /// Largest packet the connection builds: the netcode payload limit.
    public var maxPacketBytes: Int
    /// Size of each fragment of a large message. Small enough that several fit in one packet
    /// (three at the defaults).
    public var fragmentBytes: Int
    /// Most bytes one call of `generatePackets` may produce: the per-tick budget. Several
    /// packets go out per tick when there is more to send.
    public var budgetBytesPerTick: Int
    /// Long-run send rate limit in bytes per second (token bucket holding 100 ms of
    /// sending, at least one packet); nil for none.
    public var bandwidthBytesPerSecond: Int?
    /// Fastest a reliable message (or fragment) is resent, in seconds, however low the RTT.
    public var minimumResendDelay: Double
    /// Slowest a reliable message is resent, in seconds, however high the RTT estimate climbs.
    public var maximumResendDelay: Double
    /// Resend delay before the first RTT sample, in seconds.
    public var initialResendDelay: Double
    /// Sent packets remembered for acknowledgement (a power of two dividing 65536).
    public var sentPacketHistory: Int
    /// Received packets remembered for duplicate and stale detection and for the ack bits.
    public var receivedPacketHistory: Int
    /// Memory all partially received large messages may use together, in bytes.
    public var maxReassemblyBytes: Int
    /// Everything the peer can make this end hold, in bytes: send queues (what we queued for it,
    /// including echoes, until it acknowledges), receive queues, unfinished reassemblies,
    /// finished messages waiting for an earlier id, and the fixed packet history. A packet that
    /// would take the connection over it is refused (not acknowledged: back-pressure); a send
    /// beyond it fails with ``ChannelSendError/overBudget``. Send queues may take at most half
    /// of what is left beside the fixed part and the headroom kept for head-of-line messages.
    /// The default (4 MiB) suits these defaults' 256 KiB messages and deep queues; the game
    /// server's match connections use 1 MiB (`GameServerLimits`).
    public var memoryBudgetBytes: Int
    /// Seconds a connection may stay pressed against its budget (refusing the peer's packets,
    /// held bytes above three quarters of the budget) before it faults with
    /// ``ChannelFault/overBudget``. An honest peer on a lossy link fills the gap it is waiting on
    /// within a resend or two; a peer that holds an id back never does.
    public var overBudgetGraceSeconds: Double

    public init(
        channels: [ChannelConfiguration] = ConnectionConfiguration.standardChannels, maxPacketBytes: Int = 1200,
        fragmentBytes: Int = 384, budgetBytesPerTick: Int = 8 * 1024, bandwidthBytesPerSecond: Int? = nil,
        minimumResendDelay: Double = 0.03, maximumResendDelay: Double = 1.0, initialResendDelay: Double = 0.1, sentPacketHistory: Int = 1024,
        receivedPacketHistory: Int = 1024, maxReassemblyBytes: Int = 2 * 1024 * 1024, memoryBudgetBytes: Int = 4 * 1024 * 1024,
        overBudgetGraceSeconds: Double = 2
    ) {
        self.channels = channels
        self.maxPacketBytes = maxPacketBytes
        self.fragmentBytes = fragmentBytes
        self.budgetBytesPerTick = budgetBytesPerTick
        self.bandwidthBytesPerSecond = bandwidthBytesPerSecond
        self.minimumResendDelay = minimumResendDelay
        self.maximumResendDelay = maximumResendDelay
        self.initialResendDelay = initialResendDelay
        self.sentPacketHistory = sentPacketHistory
        self.receivedPacketHistory = receivedPacketHistory
        self.maxReassemblyBytes = maxReassemblyBytes
        self.memoryBudgetBytes = memoryBudgetBytes
        self.overBudgetGraceSeconds = overBudgetGraceSeconds
    }

    /// One channel of each kind, in the order reliable-ordered, reliable-unordered,
    /// unreliable-unordered, unreliable-sequenced.
    public static let standardChannels: [ChannelConfiguration] = ChannelKind.allCases.map { ChannelConfiguration(kind: $0) }

    public enum Invalid: Error, Equatable, Sendable {
        case channelCount(Int)
        case queueSize(channel: Int)
        case maxMessageBytes(channel: Int)
        case packetBytes(Int)
        case fragmentBytes(Int)
        case budget(Int)
        case bandwidth(Int)
        case history(Int)
        case reassembly(Int)
        case resendDelay
        case memoryBudget(Int)
    }

    /// Largest message an unreliable channel can carry: one packet's worth.
    public var maxUnreliableMessageBytes: Int { maxPacketBytes - ChannelWire.maxHeaderBytes - ChannelWire.maxEntryHeaderBytes }

    public func validate() throws(Invalid) {
        guard (1...64).contains(channels.count) else { throw .channelCount(channels.count) }
        guard (64...Netcode.maxPayloadBytes).contains(maxPacketBytes) else { throw .packetBytes(maxPacketBytes) }
        guard fragmentBytes >= 16, fragmentBytes <= maxPacketBytes - ChannelWire.maxHeaderBytes - ChannelWire.maxEntryHeaderBytes else {
            throw .fragmentBytes(fragmentBytes)
        }
        guard budgetBytesPerTick >= maxPacketBytes else { throw .budget(budgetBytesPerTick) }
        if let bandwidthBytesPerSecond, bandwidthBytesPerSecond < maxPacketBytes { throw .bandwidth(bandwidthBytesPerSecond) }
        for history in [sentPacketHistory, receivedPacketHistory] {
            guard history >= 64, history <= 32768, 65536 % history == 0 else { throw .history(history) }
        }
        guard maxReassemblyBytes >= 0 else { throw .reassembly(maxReassemblyBytes) }
        // A zero floor would let one resend pass send the same fragment twice.
        guard minimumResendDelay > 0, maximumResendDelay >= minimumResendDelay, initialResendDelay > 0 else { throw .resendDelay }
        guard overBudgetGraceSeconds >= 0 else { throw .memoryBudget(memoryBudgetBytes) }
        for (index, channel) in channels.enumerated() {
            let powers = (0...15).map { 1 << $0 }
            guard powers.contains(channel.sendQueueSize), powers.contains(channel.receiveQueueSize) else {
                throw .queueSize(channel: index)
            }
            if channel.kind.isReliable {
                guard channel.receiveQueueSize >= channel.sendQueueSize else { throw .queueSize(channel: index) }
                let maxFragments = (channel.maxMessageBytes + fragmentBytes - 1) / fragmentBytes
                guard channel.maxMessageBytes >= 1, maxFragments <= 65535, channel.maxMessageBytes <= maxReassemblyBytes || channel.maxMessageBytes <= fragmentBytes
                else { throw .maxMessageBytes(channel: index) }
                // The largest message must fit the send share (half of what the budget leaves
                // beside the fixed part and the head-of-line headroom), or it could never be sent.
                let sendCost = channel.maxMessageBytes + ReliableChannel.partOverheadBytes * max(1, maxFragments)
                guard sendCost <= ChannelConnection.sendShareBytes(of: self) else { throw .memoryBudget(memoryBudgetBytes) }
            } else {
                guard channel.maxMessageBytes >= 1 else { throw .maxMessageBytes(channel: index) }
            }
        }
    }
}
