/// Why a message could not be queued. The caller can act on each: wait and retry, split the
/// data, or stop.
public enum ChannelSendError: Error, Equatable, Sendable {
    /// No channel with this index.
    case invalidChannel(Int)
    /// Larger than the channel's maximum (given).
    case messageTooLarge(maxBytes: Int)
    /// The channel's send queue is full: the peer has not acknowledged enough yet.
    case queueFull
    /// Queueing it would take the connection (or every connection together) over its memory
    /// budget: the peer has not acknowledged enough yet.
    case overBudget
    /// The connection broke off after a protocol violation; see ``ChannelConnection/fault``.
    case connectionFaulted
}

/// A protocol violation by the peer. The connection stops processing and the owner should
/// disconnect with this reason.
public enum ChannelFault: Error, Equatable, Sendable, CustomStringConvertible {
    /// The packet or an entry is truncated or has reserved bits set.
    case malformedPacket
    /// An entry names a channel this connection does not have.
    case invalidChannel(Int)
    /// A fragment on a channel that does not fragment, or fragment fields that cannot be.
    case invalidFragment(channel: Int)
    /// A message or reassembly larger than the channel allows.
    case oversizedMessage(channel: Int, bytes: Int)
    /// A message id the sender could never legitimately use now.
    case messageIDOutsideWindow(channel: Int, id: UInt16)
    /// Fragments of one message disagree with each other.
    case inconsistentFragments(channel: Int, id: UInt16)
    /// The peer kept the connection pressed against its memory budget for longer than the
    /// grace period (for example by holding back one message id so nothing is ever delivered).
    case overBudget

    public var description: String {
        switch self {
        case .malformedPacket: "malformed_packet"
        case .invalidChannel(let channel): "invalid_channel(\(channel))"
        case .invalidFragment(let channel): "invalid_fragment(channel \(channel))"
        case .oversizedMessage(let channel, let bytes): "oversized_message(channel \(channel), \(bytes) bytes)"
        case .messageIDOutsideWindow(let channel, let id): "message_id_outside_window(channel \(channel), id \(id))"
        case .inconsistentFragments(let channel, let id): "inconsistent_fragments(channel \(channel), id \(id))"
        case .overBudget: "over_budget"
        }
    }

    /// Every ``kind``, for metrics that are created up front.
    public static let kinds = [
        "malformed_packet", "invalid_channel", "invalid_fragment", "oversized_message", "message_id_outside_window",
        "inconsistent_fragments", "over_budget",
    ]

    /// The kind alone, without numbers: a bounded label for metrics.
    public var kind: String {
        switch self {
        case .malformedPacket: "malformed_packet"
        case .invalidChannel: "invalid_channel"
        case .invalidFragment: "invalid_fragment"
        case .oversizedMessage: "oversized_message"
        case .messageIDOutsideWindow: "message_id_outside_window"
        case .inconsistentFragments: "inconsistent_fragments"
        case .overBudget: "over_budget"
        }
    }
}

/// Identifies a queued reliable message, for progress queries.
public struct MessageHandle: Hashable, Sendable {
    public let channel: Int
    public let id: UInt16
}

/// How far a reliable message has got.
public struct SendProgress: Equatable, Sendable {
    public var ackedBytes: Int
    public var totalBytes: Int
    public var isComplete: Bool { ackedBytes >= totalBytes }
}
