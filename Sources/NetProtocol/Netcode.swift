/// Constants of the netcode 1.02 standard. Sizes are in bytes.
public enum Netcode {
    /// `"NETCODE 1.02"` followed by one NUL.
    public static let versionInfo: [UInt8] = Array("NETCODE 1.02".utf8) + [0]
    public static let versionInfoBytes = 13
    public static let connectTokenBytes = 2048
    public static let connectTokenPrivateBytes = 1024
    public static let connectTokenNonceBytes = 24
    public static let challengeTokenBytes = 300
    public static let userDataBytes = 256
    public static let maxServersPerConnect = 32
    /// The largest payload one packet carries.
    public static let maxPayloadBytes = 1200
    /// Buffer size for any datagram this side builds or accepts.
    public static let maxPacketBytes = 1300
    /// Exact size of a connection request packet.
    public static let connectionRequestBytes = 1078
    public static let replayWindowSize = 256
    /// Request, response and keep-alive packets are (re)sent at this rate.
    public static let packetSendRate = 10.0
    public static let disconnectPacketCount = 10
    /// First sequence of the server's challenge and denied packets, re-seeded on every start so
    /// those nonces never meet the per-client ones (which start at 0) under the same key.
    public static let serverGlobalSequenceStart: UInt64 = 1 << 63
}

/// The seven netcode packet types.
public enum PacketType: UInt8, Sendable, CaseIterable {
    case connectionRequest = 0
    case connectionDenied = 1
    case connectionChallenge = 2
    case connectionResponse = 3
    case keepAlive = 4
    case payload = 5
    case disconnect = 6
}

/// A moment as the transport sees it: a monotonic clock for timers, and Unix seconds for the
/// token expiry checks the standard defines against wall time.
///
/// Cores never read a clock; drivers build one of these per call, tests advance a virtual one.
public struct NetInstant: Sendable {
    /// Seconds on a monotonic clock with an arbitrary origin.
    public var seconds: Double
    /// Wall-clock Unix time in whole seconds.
    public var unixSeconds: UInt64

    public init(seconds: Double, unixSeconds: UInt64) {
        self.seconds = seconds
        self.unixSeconds = unixSeconds
    }

    /// A virtual instant `seconds` after a virtual wall clock that read `unixEpoch` at 0.
    public static func virtual(_ seconds: Double, unixEpoch: UInt64 = 1_700_000_000) -> NetInstant {
        NetInstant(seconds: seconds, unixSeconds: unixEpoch &+ UInt64(max(0, seconds)))
    }
}
