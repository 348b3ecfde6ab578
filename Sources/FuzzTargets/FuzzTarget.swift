import Foundation
import GameCore
import MatchContract
import NetProtocol

/// Every decoder of untrusted bytes, as a function of one fuzz input. The libFuzzer executables
/// in `Fuzz/` call these; the test suite replays their seeds and seeded mutations through them
/// on every run. A target may not crash, trap or hang on any input: what it rejects it rejects
/// with a typed error, a nil or a counted drop.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// netcode 1.02 datagrams arriving at a server (handshake, keep-alives, payloads, disconnects).
    case netcodeServer = "netcode-server"
    /// netcode 1.02 datagrams arriving at a client that is connecting with a token.
    case netcodeClient = "netcode-client"
    /// Public connect tokens, their sealed private part and the private part's plaintext.
    case connectToken = "connect-token"
    /// Channel packets (acks, reliable and unreliable entries, fragments) on a match connection.
    case channelPacket = "channel-packet"
    /// Input messages as the match decodes and applies them.
    case inputMessage = "input-message"
    /// Snapshots as the client decodes them against its baselines.
    case snapshot
    /// The match ticket in a connect token's user data.
    case matchTicket = "match-ticket"

    /// Runs the target on one input.
    public func run(_ data: UnsafeRawBufferPointer) {
        switch self {
        case .netcodeServer: NetcodeHarness.server(FuzzInput(data))
        case .netcodeClient: NetcodeHarness.client(FuzzInput(data))
        case .connectToken: TokenHarness.run(Array(data))
        case .channelPacket: ChannelHarness.run(FuzzInput(data))
        case .inputMessage: GameHarness.inputs(FuzzInput(data))
        case .snapshot: GameHarness.snapshots(FuzzInput(data))
        case .matchTicket: _ = MatchTicket(userData: Array(data))
        }
    }

    public func run(_ bytes: [UInt8]) { bytes.withUnsafeBytes { run($0) } }

    /// The seed corpus: the known-answer vectors' packets and tokens (`vectors` is the parsed
    /// netcode-1.02-vectors.json, when given), and inputs made by our own encoders.
    public func seeds(vectors: [String: Any]? = nil) -> [[UInt8]] {
        switch self {
        case .netcodeServer: NetcodeHarness.serverSeeds(vectors: vectors)
        case .netcodeClient: NetcodeHarness.clientSeeds(vectors: vectors)
        case .connectToken: TokenHarness.seeds(vectors: vectors)
        case .channelPacket: ChannelHarness.seeds()
        case .inputMessage: GameHarness.inputSeeds()
        case .snapshot: GameHarness.snapshotSeeds()
        case .matchTicket: [
            MatchTicket(matchID: 42, playerID: 7, displayName: "ann").encoded(),
            MatchTicket(matchID: 0, playerID: 1, displayName: "").encoded(),
            MatchTicket(matchID: .max, playerID: .max, displayName: String(repeating: "é", count: 40)).encoded(),
        ]
        }
    }

    /// Loads the vectors file (JSON), or nil.
    public static func loadVectors(at path: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

/// A fuzz input read as a sequence of frames: `[gap: 1 byte, in 1/64 s][length: 2 bytes LE]
/// [bytes]`, so that one input can drive a conversation (a handshake, a stream of packets). A
/// cut-short last frame takes what is left.
struct FuzzInput {
    struct Frame {
        var time: Double
        var bytes: UnsafeRawBufferPointer
    }

    let data: UnsafeRawBufferPointer

    init(_ data: UnsafeRawBufferPointer) { self.data = data }

    func forEachFrame(limit: Int = 256, _ body: (Frame) -> Void) {
        var offset = 0
        var time = 0.0
        var count = 0
        while offset + 3 <= data.count && count < limit {
            time += Double(data[offset]) / 64
            let length = Int(data[offset + 1]) | Int(data[offset + 2]) << 8
            let start = offset + 3
            let end = min(data.count, start + length)
            body(Frame(time: time, bytes: UnsafeRawBufferPointer(rebasing: data[start..<end])))
            offset = end
            count += 1
        }
    }

    /// Frames `messages` at `times` (seconds; gaps rounded to 1/64 s).
    static func encode(_ messages: [(time: Double, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        var previous = 0.0
        for message in messages {
            let gap = UInt8(max(0, min(255, ((message.time - previous) * 64).rounded())))
            previous += Double(gap) / 64
            let length = min(message.bytes.count, 0xFFFF)
            out += [gap, UInt8(length & 0xFF), UInt8(length >> 8)] + message.bytes.prefix(length)
        }
        return out
    }
}

/// Sinks that keep nothing (the harnesses only need the endpoints not to break).
struct DiscardingServerSink: ServerSink {
    var events = 0
    mutating func transmit(_ datagram: UnsafeRawBufferPointer, to address: NetAddress) {}
    mutating func serverEvent(_ event: ServerEvent) { events += 1 }
}

struct DiscardingClientSink: ClientSink {
    var transmissions: [[UInt8]] = []
    var keep = false
    mutating func transmit(_ datagram: UnsafeRawBufferPointer, to address: NetAddress) { if keep { transmissions.append(Array(datagram)) } }
    mutating func clientEvent(_ event: ClientEvent) {}
}

extension [String: Any] {
    func hexList(_ section: String, field: String) -> [[UInt8]] {
        ((self[section] as? [[String: Any]]) ?? []).compactMap { ($0[field] as? String).flatMap(Hex.decode) }
    }
}
