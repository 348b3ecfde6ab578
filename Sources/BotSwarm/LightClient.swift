import GameCore
import MatchContract
import NetProtocol

/// A light bot's connection: everything the server needs of a client of docs/PROTOCOL.md and
/// nothing a player's screen needs. The netcode transport (handshake, encryption the server
/// checks, keep-alives, time-outs) is the SDK's own; the channel layer is ``LightChannel``
/// (acks, RTT, the reliable echo, one packet a tick); of each snapshot only the header is read,
/// for the input message's acknowledgement and the report's measurements. No entity is decoded,
/// nothing is predicted or interpolated: the bot plays by script.
///
/// It acknowledges the newest snapshot it received, as a full client acknowledges the newest it
/// decoded, so the server encodes deltas against that baseline exactly as for a player.
///
/// Its datagrams go through the thread's ``LightBotIO`` on a socket connected to the token's
/// first server (a light bot does not fail over to the token's other servers). Single-threaded;
/// nothing allocates per tick once the connection is up.
final class LightClient<Rules: GameRules> {
    let endpoint = ClientEndpoint()
    let channel = LightChannel()
    /// The socket's number in the thread's ``LightBotIO``.
    let socket: Int32
    let server: NetAddress
    private let rules: Rules
    private var writer = BitWriter(capacity: 64)

    /// The newest inputs, at `sequence % maxInputs`, as the rules encode them (their bits, low
    /// first, and how many): every input message repeats them, and each is encoded only once.
    private var recentBits: [UInt64]
    private var recentWidths: [Int]
    private var recentCount = 0
    /// The input message of this tick (at most 108 header bits and eight inputs of 64 bits).
    private let message: UnsafeMutableRawBufferPointer
    private var messageLength = 0
    private(set) var inputSequence: UInt32 = 0
    /// The newest snapshot tick received (the input message's acknowledgement).
    private(set) var newestTick: UInt32 = 0
    /// The newest input the server said it applied.
    private(set) var lastApplied: UInt32 = 0

    // When each recent input went out, for the input-to-acknowledgement latency.
    private static var sentRing: Int { 128 }
    private var sentAt: [Double]
    private var sentSequence: [UInt32]
    private var lastSnapshotAt: Double?
    private var nextTransportUpdate = -Double.infinity
    /// Measurements since the last ``takeMeasurements()`` (seconds).
    private(set) var snapshotGaps: [Double] = []
    private(set) var inputAckLatencies: [Double] = []

    private(set) var reliableSent = 0
    var reliableReceived: Int { channel.reliableReceived }
    /// Snapshot-channel messages that were neither a snapshot header nor the match's end.
    private(set) var malformedMessages: UInt64 = 0
    /// Datagrams the endpoint addressed elsewhere than the socket's server, or the socket refused.
    fileprivate(set) var unsentDatagrams: UInt64 = 0

    init(rules: Rules, socket: Int32, server: NetAddress) {
        self.rules = rules
        self.socket = socket
        self.server = server
        recentBits = Array(repeating: 0, count: InputMessage<Rules.Input>.maxInputs)
        recentWidths = Array(repeating: 0, count: InputMessage<Rules.Input>.maxInputs)
        message = .allocate(byteCount: 14 + 8 * InputMessage<Rules.Input>.maxInputs, alignment: 8)
        sentAt = Array(repeating: 0, count: Self.sentRing)
        sentSequence = Array(repeating: 0, count: Self.sentRing)
        snapshotGaps.reserveCapacity(128)
        inputAckLatencies.reserveCapacity(128)
    }

    deinit { message.deallocate() }

    var state: ClientState { endpoint.state }

    /// What the endpoint hands back: datagrams into the thread's batch, payloads into the channels.
    /// A sink lives only for one call of the endpoint, made by the client with the thread's I/O
    /// in hand, so it holds both without counting references (a retain and release each, per
    /// datagram, were measurable).
    struct Sink: ClientSink {
        unowned(unsafe) let client: LightClient
        unowned(unsafe) let io: LightBotIO
        let now: Double

        func transmit(_ datagram: UnsafeRawBufferPointer, to address: NetAddress) {
            guard address == client.server, io.send(datagram, on: client.socket) else {
                client.unsentDatagrams &+= 1
                return
            }
        }

        func clientEvent(_ event: ClientEvent) {
            guard case .payload(let bytes) = event else { return }
            client.channel.handlePacket(bytes, now: now) { message in client.snapshotArrived(message, now: now) }
        }
    }

    func connect(token: ConnectToken, now: NetInstant, io: LightBotIO) {
        var sink = Sink(client: self, io: io, now: now.seconds)
        endpoint.connect(token: token, now: now, sink: &sink)
    }

    /// A datagram from the socket (the kernel delivers only the server's to a connected socket).
    @inline(__always)
    func handle(_ datagram: UnsafeRawBufferPointer, now: NetInstant, io: LightBotIO) {
        var sink = Sink(client: self, io: io, now: now.seconds)
        endpoint.handle(datagram, from: server, now: now, sink: &sink)
    }

    /// One tick: run the transport's timers, then send this tick's packet (acks, the reliable
    /// messages due, the input message).
    func tick(input: Rules.Input, now: NetInstant, io: LightBotIO) {
        var sink = Sink(client: self, io: io, now: now.seconds)
        // The transport's timers (handshake resends, keep-alives, time-outs) run at netcode's
        // 10 Hz packet rate; a payload goes out every tick anyway, so no keep-alive is ever due.
        if now.seconds >= nextTransportUpdate {
            nextTransportUpdate = now.seconds + 1 / Netcode.packetSendRate
            endpoint.update(now: now, sink: &sink)
        }
        guard endpoint.state == .connected else { return }
        writeInput(input, now: now.seconds)
        let length = channel.writePacket(into: io.scratch, input: UnsafeRawBufferPointer(rebasing: message[0..<messageLength]), now: now.seconds)
        _ = endpoint.send(UnsafeRawBufferPointer(rebasing: io.scratch[0..<length]), now: now, sink: &sink)
    }

    /// Queues a reliable message (channel 0, at most 384 bytes); the game server echoes it back.
    @discardableResult
    func sendReliable(_ bytes: [UInt8]) -> Bool {
        guard channel.sendReliable(bytes) else { return false }
        reliableSent += 1
        return true
    }

    func disconnect(now: NetInstant, io: LightBotIO) {
        var sink = Sink(client: self, io: io, now: now.seconds)
        endpoint.disconnect(now: now, sink: &sink)
    }

    /// Empties the measurement buffers (the caller keeps what it took), keeping their storage.
    func takeMeasurements(into gaps: inout [Double], _ acks: inout [Double]) {
        gaps += snapshotGaps
        acks += inputAckLatencies
        snapshotGaps.removeAll(keepingCapacity: true)
        inputAckLatencies.removeAll(keepingCapacity: true)
    }

    /// A snapshot-channel message: the snapshot header (docs/PROTOCOL.md: kind 8, tick 32,
    /// baseline age 8, last applied input 32, your entity 16, bit-packed low bits first, so
    /// byte-aligned little-endian here), or the match's end.
    fileprivate func snapshotArrived(_ message: UnsafeRawBufferPointer, now: Double) {
        guard message.count >= 12, message[0] == SnapshotCodec.kind else {
            if message.first != MatchOverMessage.kind { malformedMessages &+= 1 }
            return
        }
        let tick = message.loadUnaligned(fromByteOffset: 1, as: UInt32.self).littleEndian
        let applied = message.loadUnaligned(fromByteOffset: 6, as: UInt32.self).littleEndian
        guard UInt32(message[5]) <= tick else { return malformedMessages &+= 1 }
        guard tick > newestTick else { return }
        if let last = lastSnapshotAt { snapshotGaps.append(now - last) }
        lastSnapshotAt = now
        newestTick = tick
        // Only inputs this bot sent, and only the ones it still remembers the time of: a
        // hostile number cannot make it loop.
        guard applied > lastApplied, applied <= inputSequence else { return }
        let oldest = max(lastApplied &+ 1, applied > UInt32(Self.sentRing) ? applied - UInt32(Self.sentRing) + 1 : 1)
        for sequence in oldest...applied {
            let slot = Int(sequence % UInt32(Self.sentRing))
            if sentSequence[slot] == sequence { inputAckLatencies.append(now - sentAt[slot]) }
        }
        lastApplied = applied
    }

    /// This tick's input message, as it goes out (tests compare it with ``InputMessage``'s).
    var inputMessage: [UInt8] { Array(message[0..<messageLength]) }

    func writeInput(_ input: Rules.Input, now: Double) {
        let maxInputs = InputMessage<Rules.Input>.maxInputs
        inputSequence &+= 1
        let slot = Int(inputSequence % UInt32(Self.sentRing))
        sentAt[slot] = now
        sentSequence[slot] = inputSequence
        writer.reset()
        rules.encode(input, into: &writer)
        let width = writer.bitCount
        let encoded = writer.finish()
        var bits: UInt64 = 0
        for (index, byte) in encoded.prefix(8).enumerated() { bits |= UInt64(byte) << UInt64(8 * index) }
        let recentSlot = Int(inputSequence % UInt32(maxInputs))
        recentBits[recentSlot] = width > 64 ? 0 : bits
        recentWidths[recentSlot] = width
        recentCount = min(recentCount + 1, maxInputs)
        // The message of docs/PROTOCOL.md, "Input (kind 1)". The view tick is where a full client
        // renders others: two ticks behind the newest snapshot.
        var packer = BitPacker(message)
        packer.write(UInt64(InputMessage<Rules.Input>.kind), bits: 8)
        packer.write(UInt64(newestTick), bits: 32)
        packer.write(UInt64(newestTick > 2 ? newestTick - 2 : 0), bits: 32)
        packer.write(UInt64(inputSequence), bits: 32)
        var count = 0
        // A game whose input needs more than 64 bits sends only the newest, whole, below.
        while count < recentCount && recentWidths[Int((inputSequence &- UInt32(count)) % UInt32(maxInputs))] <= 64 { count += 1 }
        guard count == recentCount else { return writeSingleInput(input) }
        packer.write(UInt64(count), bits: 4)
        for offset in 0..<count {
            let index = Int((inputSequence &- UInt32(offset)) % UInt32(maxInputs))
            let width = recentWidths[index]
            let value = recentBits[index]
            packer.write(value & 0xFFFF_FFFF, bits: min(32, width))
            if width > 32 { packer.write(value >> 32, bits: width - 32) }
        }
        messageLength = packer.finish()
    }

    /// The input message with only the newest input, through the game's own writer.
    private func writeSingleInput(_ input: Rules.Input) {
        writer.reset()
        writer.write(UInt64(InputMessage<Rules.Input>.kind), bits: 8)
        writer.write(UInt64(newestTick), bits: 32)
        writer.write(UInt64(newestTick > 2 ? newestTick - 2 : 0), bits: 32)
        writer.write(UInt64(inputSequence), bits: 32)
        writer.write(1, bits: 4)
        rules.encode(input, into: &writer)
        let bytes = writer.finish()
        messageLength = min(bytes.count, message.count)
        bytes.withUnsafeBytes { message.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<messageLength])) }
    }
}

/// Bits into raw memory, low bits first, as ``BitWriter`` writes them, without an array's
/// bookkeeping on every byte. The caller sizes the memory for what it writes.
private struct BitPacker {
    private let bytes: UnsafeMutableRawBufferPointer
    private var offset = 0
    private var scratch: UInt64 = 0
    private var scratchBits = 0

    init(_ bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }

    /// `bits` ≤ 32, and `value` fits in them.
    mutating func write(_ value: UInt64, bits: Int) {
        scratch |= value << UInt64(scratchBits)
        scratchBits += bits
        while scratchBits >= 8 {
            bytes[offset] = UInt8(truncatingIfNeeded: scratch)
            offset += 1
            scratch >>= 8
            scratchBits -= 8
        }
    }

    /// Pads to a whole byte; returns the length.
    mutating func finish() -> Int {
        if scratchBits > 0 {
            bytes[offset] = UInt8(truncatingIfNeeded: scratch)
            offset += 1
            scratchBits = 0
        }
        return offset
    }
}
