/// Why a datagram was dropped without an answer. Counted, never logged one by one: a flood of
/// junk must not become a flood of log lines.
public enum DropReason: Int, CaseIterable, Sendable, CustomStringConvertible, Error {
    case tooShort
    case tooLong
    case invalidPacketType
    case invalidSequenceBytes
    case packetTypeNotAccepted
    case requestWrongLength
    case wrongVersion
    case wrongProtocolID
    case tokenExpired
    case tokenDecryptFailed
    case tokenInvalid
    case serverAddressNotInToken
    case addressAlreadyConnected
    case clientIDAlreadyConnected
    case tokenReusedFromOtherAddress
    case encryptionMappingsFull
    case unknownAddress
    case replayed
    case decryptFailed
    case wrongBodyLength
    case challengeTokenInvalid
    case wrongState
    case wrongSender

    public var description: String {
        switch self {
        case .tooShort: "too_short"
        case .tooLong: "too_long"
        case .invalidPacketType: "invalid_packet_type"
        case .invalidSequenceBytes: "invalid_sequence_bytes"
        case .packetTypeNotAccepted: "packet_type_not_accepted"
        case .requestWrongLength: "request_wrong_length"
        case .wrongVersion: "wrong_version"
        case .wrongProtocolID: "wrong_protocol_id"
        case .tokenExpired: "token_expired"
        case .tokenDecryptFailed: "token_decrypt_failed"
        case .tokenInvalid: "token_invalid"
        case .serverAddressNotInToken: "server_address_not_in_token"
        case .addressAlreadyConnected: "address_already_connected"
        case .clientIDAlreadyConnected: "client_id_already_connected"
        case .tokenReusedFromOtherAddress: "token_reused_from_other_address"
        case .encryptionMappingsFull: "encryption_mappings_full"
        case .unknownAddress: "unknown_address"
        case .replayed: "replayed"
        case .decryptFailed: "decrypt_failed"
        case .wrongBodyLength: "wrong_body_length"
        case .challengeTokenInvalid: "challenge_token_invalid"
        case .wrongState: "wrong_state"
        case .wrongSender: "wrong_sender"
        }
    }
}

/// What an endpoint has seen and done. Plain integers, cheap to bump on every datagram;
/// drivers copy them into metrics.
public struct TransportCounters: Sendable, Equatable {
    public var datagramsReceived: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var datagramsSent: UInt64 = 0
    public var bytesSent: UInt64 = 0
    public var payloadsReceived: UInt64 = 0
    public var payloadsSent: UInt64 = 0
    public var challengesSent: UInt64 = 0
    public var deniedSent: UInt64 = 0
    public var connects: UInt64 = 0
    public var disconnects: UInt64 = 0
    public var timeouts: UInt64 = 0
    /// Stream (WebSocket) connections admitted with a connect token.
    public var streamConnects: UInt64 = 0
    private var drops = [UInt64](repeating: 0, count: DropReason.allCases.count)
    private var streamRefusals = [UInt64](repeating: 0, count: StreamRefusal.allCases.count)

    public init() {}

    /// Datagrams dropped for `reason`.
    public subscript(drop reason: DropReason) -> UInt64 { drops[reason.rawValue] }

    /// Every datagram dropped, whatever the reason.
    public var totalDrops: UInt64 { drops.reduce(0, +) }

    @inline(__always)
    mutating func countDrop(_ reason: DropReason) { drops[reason.rawValue] &+= 1 }

    /// Stream connections refused for `reason`.
    public subscript(streamRefusal reason: StreamRefusal) -> UInt64 { streamRefusals[reason.rawValue] }

    mutating func countRefusal(_ reason: StreamRefusal) { streamRefusals[reason.rawValue] &+= 1 }

    /// Non-zero drop counts, for printing.
    public var dropSummary: [(DropReason, UInt64)] {
        DropReason.allCases.compactMap { drops[$0.rawValue] > 0 ? ($0, drops[$0.rawValue]) : nil }
    }
}
