import Foundation
@testable import GameCore
import MatchContract
@testable import NetProtocol
import Testing

/// Known-answer vectors for the JavaScript client (`Clients/js/`): the Swift implementation's own
/// packets, messages, snapshots and simulation runs, written to `Clients/js/test/vectors/*.json`,
/// which `node --test Clients/js/test/` replays against the JS code. Each test compares what it
/// generates with the committed file and fails on any drift (so a wire or simulation change in
/// Swift cannot silently leave the JS client behind). After a deliberate change, regenerate them:
///
///     ARBITER_WRITE_JS_VECTORS=1 swift test --filter JSVectorsTests
///
/// then run the JS tests and commit both.
@Suite struct JSVectorsTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Clients/js/test/vectors")

    /// Compares `text` with the committed vector file, or writes it when asked to.
    static func check(_ name: String, _ text: String) throws {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["ARBITER_WRITE_JS_VECTORS"] == "1" {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
            return
        }
        let committed = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        guard committed != text else { return }
        // Name the first line that differs rather than print both files (some are large).
        let old = committed.split(separator: "\n", omittingEmptySubsequences: false)
        let new = text.split(separator: "\n", omittingEmptySubsequences: false)
        let line = (0..<min(old.count, new.count)).first { old[$0] != new[$0] } ?? min(old.count, new.count)
        Issue.record("""
            \(name) differs from what the Swift implementation produces (first at line \(line + 1) of \(new.count)): \
            regenerate with ARBITER_WRITE_JS_VECTORS=1 (see JSVectorsTests) and rerun the JS tests
            """)
    }

    /// A JSON document with one case per line: small diffs when a vector changes.
    static func document<Meta: Encodable, Case: Encodable>(meta: Meta, cases: [Case]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func line(_ value: some Encodable) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        return "{\"meta\":\(try line(meta)),\n\"cases\":[\n" + (try cases.map(line).joined(separator: ",\n")) + "\n]}\n"
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Deterministic filler bytes.
    static func payload(_ count: Int, seed: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7 &+ 3) } }

    // MARK: - Shapes shared by several files

    struct Entity: Codable, Equatable {
        var id: UInt16, kind: UInt8, x: Int32, y: Int32, vx: Int32, vy: Int32, aim: UInt16, health: UInt8, flags: UInt8
        var owner: UInt16, score: UInt16, kills: UInt16, deaths: UInt16

        init(_ e: ArenaEntity) {
            (id, kind, x, y, vx, vy, aim) = (e.id, e.kind.rawValue, e.x, e.y, e.vx, e.vy, e.aim)
            (health, flags, owner, score, kills, deaths) = (e.health, e.flags, e.owner, e.score, e.kills, e.deaths)
        }
    }

    struct Input: Codable {
        var moveX: Int8, moveY: Int8, aim: UInt16, buttons: UInt8
        init(_ input: ArenaRules.Input) { (moveX, moveY, aim, buttons) = (input.moveX, input.moveY, input.aim, input.buttons) }
        var arena: ArenaRules.Input { ArenaRules.Input(moveX: moveX, moveY: moveY, aim: aim, buttons: buttons) }
    }

    struct Settings: Codable { var tickRate: Int, map: String }

    static func randomInput(_ random: inout SeededRandomSource) -> ArenaRules.Input {
        ArenaRules.Input(
            moveX: Int8(Int(random.next() % 255) - 127), moveY: Int8(Int(random.next() % 255) - 127),
            aim: UInt16(truncatingIfNeeded: random.next()), buttons: UInt8(random.next() % 4))
    }

    // MARK: - Channel packets, field by field

    struct WireEntry: Codable { var channel: Int, id: UInt16?, fragment: [Int]?, payload: String }
    struct WireAck: Codable { var newest: UInt16, bits: UInt32 }
    struct WireCase: Codable {
        var name: String
        var sequence: UInt16?
        var ack: WireAck?
        var entries: [WireEntry]?
        var bytes: String
        /// For packets a match connection refuses: the fault (ChannelFault's description).
        var fault: String?
        /// Packets the connection handled first.
        var before: [String]?
    }
    struct WireMeta: Codable { var channelsWithIDs: [Int], note: String }

    @Test func channelWireVectors() throws {
        var cases: [WireCase] = []
        func packet(_ name: String, sequence: UInt16, ack: ChannelWire.Ack?, entries: [RawChannelPacket.Entry], capacity: Int = Netcode.maxPayloadBytes) {
            let bytes = RawChannelPacket.encode(sequence: sequence, ack: ack, entries: entries, capacity: capacity)
            cases.append(WireCase(
                name: name, sequence: sequence, ack: ack.map { WireAck(newest: $0.newest, bits: $0.bits) },
                entries: entries.map { WireEntry(channel: $0.channel, id: $0.id, fragment: $0.fragment.map { [$0.index, $0.count] }, payload: Self.hex($0.payload)) },
                bytes: Self.hex(bytes)))
        }
        packet("the worked example of docs/PROTOCOL.md", sequence: 0x0102, ack: .init(newest: 0x0100, bits: 0xFFFF_FFFF),
               entries: [.init(channel: 0, id: 7, payload: Array("hi".utf8))])
        packet("first packet, nothing received yet", sequence: 0, ack: nil, entries: [.init(channel: 2, id: nil, payload: [1, 2, 3])])
        packet("ack-only", sequence: 513, ack: .init(newest: 500, bits: 0x0F0F_FF00), entries: [])
        packet("ack far behind (two-byte ack)", sequence: 10, ack: .init(newest: 65000, bits: 0x8000_0001), entries: [])
        packet("sequence wraps", sequence: 3, ack: .init(newest: 65534, bits: 0xFFFF_FF7F), entries: [.init(channel: 3, id: 65535, payload: [9])])
        packet("every channel kind", sequence: 77, ack: .init(newest: 76, bits: 0xFFFF_FFFE), entries: [
            .init(channel: 0, id: 1, payload: Self.payload(5, seed: 1)),
            .init(channel: 1, id: 300, payload: Self.payload(127, seed: 2)),
            .init(channel: 2, id: nil, payload: Self.payload(128, seed: 3)),
            .init(channel: 3, id: 40000, payload: []),
        ])
        packet("fragments and a two-byte length", sequence: 1000, ack: .init(newest: 999, bits: 0xFFFF_FFFF), entries: [
            .init(channel: 1, id: 4, fragment: (0, 3), payload: Self.payload(384, seed: 4)),
            .init(channel: 1, id: 4, fragment: (2, 3), payload: Self.payload(17, seed: 5)),
        ])
        packet("three-byte length", sequence: 5, ack: nil, entries: [.init(channel: 2, id: nil, payload: Self.payload(16_384, seed: 6))], capacity: 17_000)
        // Refused packets, and the fault a match connection reports for each.
        func refused(_ name: String, _ bytes: [UInt8], after earlier: [[UInt8]] = []) throws {
            let connection = try ChannelConnection(configuration: MatchChannel.connectionConfiguration())
            for packet in earlier { connection.handlePacket(packet, now: 0) }
            connection.handlePacket(bytes, now: 0)
            cases.append(WireCase(
                name: name, bytes: Self.hex(bytes), fault: connection.fault.map { "\($0)" } ?? "none",
                before: earlier.isEmpty ? nil : earlier.map { Self.hex($0) }))
        }
        try refused("reserved flag bits", [0x40, 0, 0])
        try refused("ack fields without an ack", [0x02, 0, 0, 0])
        try refused("truncated header", [0x03, 1])
        try refused("entry with the reserved bit", [0x00, 0, 0, 0x80, 0, 0, 0])
        try refused("channel the connection does not have", [0x00, 0, 0, 0x05, 0, 0, 0])
        try refused("non-canonical varint", [0x00, 0, 0, 0x02, 0x81, 0x00, 1])
        try refused("length past the end", [0x00, 0, 0, 0x02, 0x05, 1, 2])
        try refused("fragment on an unreliable channel", [0x00, 0, 0, 0x42, 0, 0, 2, 0, 1, 7])
        try refused("id far outside the window", [0x00, 0, 0, 0x00, 0x00, 0x10, 1, 7])
        try refused("a fragment count of one", [0x00, 0, 0, 0x41, 0, 0, 0, 0, 1, 0, 1, 7])
        try refused("a short middle fragment", [0x00, 0, 0, 0x41, 0, 0, 0, 0, 3, 0, 2, 7, 7])
        try refused("a whole message over the fragment size", [0x00, 0, 0, 0x00, 0, 0] + [0x81, 0x03] + Self.payload(385, seed: 9))
        try refused(
            "fragments of one id disagree",
            RawChannelPacket.encode(sequence: 1, ack: nil, entries: [.init(channel: 1, id: 0, fragment: (1, 3), payload: Self.payload(384, seed: 1))]),
            after: [RawChannelPacket.encode(sequence: 0, ack: nil, entries: [.init(channel: 1, id: 0, fragment: (0, 2), payload: Self.payload(384, seed: 1))])])
        try refused(
            "a duplicate packet is dropped without effect",
            RawChannelPacket.encode(sequence: 0, ack: nil, entries: [.init(channel: 0, id: 900, payload: [1])]),
            after: [RawChannelPacket.encode(sequence: 0, ack: nil, entries: [.init(channel: 0, id: 0, payload: [1])])])
        try Self.check("channel-wire.json", Self.document(
            meta: WireMeta(channelsWithIDs: [0, 1, 3], note: "standard channel list; a fault of none means the packet is accepted"),
            cases: cases))
    }

    // MARK: - A channel conversation over a lossy link

    struct Sent: Codable { var channel: Int, bytes: String }
    struct ConversationStep: Codable {
        var time: Double
        /// Packets that reached the client this step, in order, handled at `time`.
        var deliver: [String]
        /// Every message the client read afterwards, channels 0...3 in order.
        var received: [Sent]
        /// What the client queued next.
        var send: [Sent]
        /// The client's `generatePackets(time)`.
        var sent: [String]
    }
    struct Statistics: Codable {
        var rtt: Double, jitter: Double, packetLoss: Double, rttMin: Double, rttMax: Double
        var packetsSent: UInt64, packetsReceived: UInt64, packetsAcked: UInt64, rttSamples: UInt64, messagesSent: UInt64
        var messagesReceived: UInt64, resends: UInt64, stalePackets: UInt64, duplicatePackets: UInt64, unreliableDropped: UInt64
        var unreliableStale: UInt64, backPressuredPackets: UInt64

        init(_ s: ConnectionStatistics) {
            (rtt, jitter, packetLoss, rttMin, rttMax) = (s.rtt, s.jitter, s.packetLoss, s.rttMin, s.rttMax)
            (packetsSent, packetsReceived, packetsAcked, rttSamples, messagesSent) = (s.packetsSent, s.packetsReceived, s.packetsAcked, s.rttSamples, s.messagesSent)
            (messagesReceived, resends, stalePackets, duplicatePackets, unreliableDropped) = (s.messagesReceived, s.resends, s.stalePackets, s.duplicatePackets, s.unreliableDropped)
            (unreliableStale, backPressuredPackets) = (s.unreliableStale, s.backPressuredPackets)
        }
    }
    struct ConversationMeta: Codable {
        var description: String
        var configuration: String
        var statisticsAfter: Statistics
        var resendDelayAfter: Double
    }

    @Test func channelConversationVectors() throws {
        let configuration = MatchChannel.connectionConfiguration()
        let client = try ChannelConnection(configuration: configuration)
        let server = try ChannelConnection(configuration: configuration)
        let link = LinkSimulator(conditions: LinkConditions(latency: 0.04, jitter: 0.01, loss: 0.15, duplicate: 0.03), seed: 7)
        let clientAddress = NetAddress(ipv4: 10, 0, 0, 2, port: 2)
        let serverAddress = NetAddress(ipv4: 10, 0, 0, 1, port: 1)
        var steps: [ConversationStep] = []
        var time = 0.0
        for step in 0..<300 {
            var deliver: [String] = []
            for datagram in link.receive(now: time) {
                if datagram.to == clientAddress {
                    deliver.append(Self.hex(datagram.bytes))
                    client.handlePacket(datagram.bytes, now: time)
                } else {
                    server.handlePacket(datagram.bytes, now: time)
                }
            }
            var received: [Sent] = []
            for channel in 0..<4 {
                while let message = client.receive(on: channel) { received.append(Sent(channel: channel, bytes: Self.hex(message))) }
                while server.receive(on: channel) != nil {}
            }
            // The client's traffic: inputs every tick, reliable messages (some fragmented) now and then.
            var send: [(Int, [UInt8])] = [(2, Self.payload(18, seed: step))]
            if step % 3 == 0 { send.append((3, Self.payload(40, seed: step))) }
            if step % 10 == 0 { send.append((0, Self.payload([5, 700, 60, 2000, 8192][step / 10 % 5], seed: step))) }
            if step % 45 == 7 { send.append((1, Self.payload(1500, seed: step))) }
            for (channel, bytes) in send { _ = try? client.send(bytes, on: channel) }
            var sent: [String] = []
            client.generatePackets(now: time) { packet in
                sent.append(Self.hex(packet))
                link.send(Array(packet), from: clientAddress, to: serverAddress, now: time)
            }
            // The server's traffic: a snapshot-like stream, echoes, large messages now and then.
            _ = try? server.send(Self.payload(150 + step % 50, seed: step), on: 3)
            if step % 4 == 0 { _ = try? server.send(Self.payload(30, seed: step), on: 2) }
            if step % 15 == 0 { _ = try? server.send(Self.payload(12, seed: step), on: 0) }
            if step % 60 == 20 { _ = try? server.send(Self.payload(5000, seed: step), on: 1) }
            server.generatePackets(now: time) { link.send(Array($0), from: serverAddress, to: clientAddress, now: time) }
            steps.append(ConversationStep(
                time: time, deliver: deliver, received: received, send: send.map { Sent(channel: $0.0, bytes: Self.hex($0.1)) }, sent: sent))
            time += 1.0 / 60
        }
        #expect(client.fault == nil && server.fault == nil)
        #expect(client.statistics.resends > 0, "the loss must cause resends")
        try Self.check("channel-conversation.json", Self.document(
            meta: ConversationMeta(
                description: "the client end of a match connection (matchConnectionConfiguration) over a link with 40 ms latency, 15 % loss, 3 % duplicates; each step: deliver, read, send, generatePackets",
                configuration: "match", statisticsAfter: Statistics(client.statistics), resendDelayAfter: client.resendDelay),
            cases: steps))
    }

    // MARK: - Input messages

    struct InputCase: Codable {
        var ackedSnapshot: UInt32, viewTick: UInt32, newestSequence: UInt32
        var inputs: [Input]?
        var bytes: String
        /// Whether the server accepts the bytes (and `inputs` are what it reads).
        var valid: Bool
        /// Whether `bytes` is the Swift encoding of the fields (else a decode-only case).
        var encoded: Bool
    }

    @Test func inputMessageVectors() throws {
        let rules = ArenaRules()
        var random = SeededRandomSource(seed: 21)
        var cases: [InputCase] = []
        for count in [1, 2, 5, 8] {
            let inputs = (0..<count).map { _ in Self.randomInput(&random) }
            let message = InputMessage(
                ackedSnapshot: UInt32(truncatingIfNeeded: random.next()), viewTick: UInt32(truncatingIfNeeded: random.next()),
                newestSequence: UInt32(truncatingIfNeeded: random.next()), inputs: inputs)
            cases.append(InputCase(
                ackedSnapshot: message.ackedSnapshot, viewTick: message.viewTick, newestSequence: message.newestSequence,
                inputs: inputs.map(Input.init), bytes: Self.hex(message.encoded(with: rules)), valid: true, encoded: true))
        }
        let extremes = [ArenaRules.Input(moveX: -127, moveY: 127, aim: 65535, buttons: 3), ArenaRules.Input()]
        let message = InputMessage(ackedSnapshot: 0, viewTick: 0, newestSequence: UInt32.max, inputs: extremes)
        cases.append(InputCase(ackedSnapshot: 0, viewTick: 0, newestSequence: .max, inputs: extremes.map(Input.init), bytes: Self.hex(message.encoded(with: rules)), valid: true, encoded: true))
        // Decoded by the server: -128 reads as -127; bad kinds, counts, truncation and trailing bytes are refused.
        let valid = Array(message.encoded(with: rules))
        var minusOneTwentyEight = valid
        minusOneTwentyEight[13] = 0x80
        var wrongKind = valid
        wrongKind[0] = 2
        var zeroCount = valid
        zeroCount[13] &= 0xF0
        for bytes in [minusOneTwentyEight, wrongKind, zeroCount, Array(valid.dropLast()), valid + [0]] {
            let decoded = InputMessage.decode(bytes, rules: rules)
            cases.append(InputCase(
                ackedSnapshot: decoded?.ackedSnapshot ?? 0, viewTick: decoded?.viewTick ?? 0, newestSequence: decoded?.newestSequence ?? 0,
                inputs: decoded?.inputs.map(Input.init), bytes: Self.hex(bytes), valid: decoded != nil, encoded: false))
        }
        try Self.check("input-messages.json", Self.document(meta: ["format": "docs/PROTOCOL.md, Input (kind 1)"], cases: cases))
    }

    // MARK: - Snapshots and deltas

    struct SnapshotCase: Codable {
        var name: String
        var bytes: String
        var tick: UInt32, baselineTick: UInt32, lastAppliedInput: UInt32, yourEntity: UInt16
        /// What the client holds after decoding (nil when decoding fails).
        var entities: [Entity]?
        /// "malformed" or "missing_baseline" when it must fail.
        var error: String?
    }

    @Test func snapshotVectors() throws {
        var random = SeededRandomSource(seed: 5)
        func next(_ bound: UInt64) -> Int { Int(random.next() % bound) }
        // A world of players and projectiles evolving over ticks: small moves, jumps, turns the short
        // way round, score changes, removals, new ids and an id reused with another kind.
        var world: [UInt16: ArenaEntity] = [:]
        for id in UInt16(1)...10 {
            world[id] = ArenaEntity(id: id, kind: .player, x: Int32(next(190_000)), y: Int32(next(130_000)), aim: UInt16(next(65536)), health: 100, flags: 1, owner: id)
        }
        var held: [UInt32: [ArenaEntity]] = [:]
        var staleHeld: [UInt32: [EntityID]] = [:]
        var cases: [SnapshotCase] = []
        let encoder = SnapshotEncoder<ArenaEntity>()
        var baselineTick: UInt32 = 0
        for tick in UInt32(1)...40 {
            for id in world.keys.sorted() {
                guard var entity = world[id] else { continue }
                switch next(10) {
                case 0: entity.x += Int32(next(200_000)) - 100_000  // a jump: full position
                case 1: entity.aim &+= UInt16(next(65536))
                case 2: entity.health = UInt8(next(101)); entity.flags = entity.health == 0 ? 0 : 1
                case 3: entity.score &+= 1; entity.kills &+= 1
                case 4 where entity.kind == .projectile: world[id] = nil; continue
                default:
                    entity.vx = Int32(next(1100)) - 550
                    entity.vy = Int32(next(1100)) - 550
                    entity.x += entity.vx
                    entity.y += entity.vy
                    entity.aim &+= UInt16(next(600)) &- 300
                }
                world[id] = entity
            }
            if tick % 3 == 0 {
                let id = UInt16(20 + next(30))
                world[id] = ArenaEntity(id: id, kind: .projectile, x: Int32(next(190_000)), y: Int32(next(130_000)), vx: 1365, vy: -20, owner: UInt16(1 + next(10)))
            }
            if tick == 17 { world[4] = ArenaEntity(id: 4, kind: .projectile, x: 1000, y: 1000, vx: 5, vy: 5, owner: 2) }
            if tick == 25 { world[7] = nil }
            let entities = world.values.sorted { $0.id < $1.id }
            // Every fifth snapshot is full; the others are deltas against a recent one the client
            // holds; some are squeezed into a small budget, deferring entities.
            let baseline: [ArenaEntity]? = tick % 5 == 1 ? nil : held[baselineTick]
            let budget: Int? = tick % 4 == 0 ? 90 : nil
            let header = SnapshotCodec.Header(tick: tick, baselineTick: baseline == nil ? 0 : baselineTick, lastAppliedInput: tick * 2, yourEntity: 3)
            let bytes = encoder.encode(
                header: header, entities: entities, baseline: baseline, staleInBaseline: baseline == nil ? [] : staleHeld[baselineTick] ?? [],
                budgetBytes: budget, priority: { Double($0.id) })
            let (decodedHeader, decoded) = try SnapshotCodec.decode(Array(bytes)) { held[$0] }
            held[tick] = decoded
            staleHeld[tick] = encoder.stale
            let name = baseline == nil ? "full" : (budget == nil ? "delta" : "delta within \(budget ?? 0) bytes")
            cases.append(SnapshotCase(
                name: "\(name) at tick \(tick)", bytes: Self.hex(bytes), tick: decodedHeader.tick, baselineTick: decodedHeader.baselineTick,
                lastAppliedInput: decodedHeader.lastAppliedInput, yourEntity: decodedHeader.yourEntity, entities: decoded.map(Entity.init)))
            // The next one refers back one or two ticks, as acknowledgements lag.
            baselineTick = tick - (tick % 2 == 0 ? 1 : 0)
        }
        // Failures: an unknown baseline, truncation, trailing bytes, a bad kind.
        let last = try #require(cases.last)
        let lastBytes = Array(try #require(Self.bytes(fromHex: last.bytes)))
        let orphan = SnapshotCodec.encode(
            header: .init(tick: 100, baselineTick: 90, lastAppliedInput: 0, yourEntity: 0), entities: [], baseline: [ArenaEntity(id: 1, kind: .player, x: 0, y: 0)])
        cases.append(SnapshotCase(name: "baseline not held", bytes: Self.hex(orphan), tick: 100, baselineTick: 90, lastAppliedInput: 0, yourEntity: 0, error: "missing_baseline"))
        cases.append(SnapshotCase(name: "truncated", bytes: Self.hex(lastBytes.dropLast(2)), tick: last.tick, baselineTick: last.baselineTick, lastAppliedInput: last.lastAppliedInput, yourEntity: last.yourEntity, error: "malformed"))
        cases.append(SnapshotCase(name: "trailing byte", bytes: Self.hex(lastBytes + [0]), tick: last.tick, baselineTick: last.baselineTick, lastAppliedInput: last.lastAppliedInput, yourEntity: last.yourEntity, error: "malformed"))
        cases.append(SnapshotCase(name: "wrong kind", bytes: Self.hex([3] + lastBytes.dropFirst()), tick: 0, baselineTick: 0, lastAppliedInput: 0, yourEntity: 0, error: "malformed"))
        for failure in cases.suffix(4) {
            let bytes = try #require(Self.bytes(fromHex: failure.bytes))
            let known = held
            #expect(throws: SnapshotCodec.DecodeError.self) { _ = try SnapshotCodec.decode(bytes) { known[$0] } }
        }
        try Self.check("snapshots.json", Self.document(
            meta: ["replay": "decode in order; a delta's baseline is the entities decoded for its baselineTick"], cases: cases))
    }

    static func bytes(fromHex text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let end = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<end], radix: 16) else { return nil }
            bytes.append(byte)
            index = end
        }
        return bytes
    }

    // MARK: - Arena movement: the server's own ticks

    struct MovementCase: Codable {
        var settings: Settings
        var inputs: [Input]
        /// The player after each server tick; `states[0]` is the tick it spawned (and first moved).
        var states: [Entity]
    }

    @Test func arenaMovementVectors() throws {
        let rules = ArenaRules()
        var cases: [MovementCase] = []
        for (index, (map, tickRate, ticks)) in [("default", 60, 900), ("default", 30, 300), ("empty", 120, 400), ("no such map", 20, 200)].enumerated() {
            var random = SeededRandomSource(seed: 100 + UInt64(index))
            let settings = MatchSettings(tickRate: tickRate, map: map)
            var state = rules.initialState(settings: settings, seed: 1)
            _ = rules.addPlayer(1, name: "runner", to: &state, tick: 0)
            var inputs: [ArenaRules.Input] = []
            var states: [ArenaEntity] = []
            var input = ArenaRules.Input()
            for tick in UInt32(1)...UInt32(ticks) {
                // Held for a while (long runs end against walls), sometimes released (friction).
                if random.next() % 20 == 0 { input = random.next() % 4 == 0 ? ArenaRules.Input(aim: input.aim) : Self.randomInput(&random) }
                input.buttons = 0
                _ = rules.step(&state, inputs: TickInputs([1: input]), tick: tick)
                let entity = try #require(rules.playerEntity(1, in: state))
                // The client's prediction must be the server's tick exactly.
                if let previous = states.last { #expect(rules.predict(previous, input: input, settings: settings) == entity) }
                inputs.append(input)
                states.append(entity)
            }
            cases.append(MovementCase(settings: Settings(tickRate: tickRate, map: map), inputs: inputs.map(Input.init), states: states.map(Entity.init)))
        }
        try Self.check("arena-movement.json", Self.document(
            meta: ["replay": "states[k] = predict(states[k-1], inputs[k], settings) for k >= 1"], cases: cases))
    }

    // MARK: - Reconciliation: a client that cannot see the walls

    struct ReconcileStep: Codable {
        var time: Double
        var input: Input
        /// The client's input message for it.
        var message: String
        /// Snapshots handed to the client afterwards, in order.
        var snapshots: [String]
        var predicted: Entity?
        var lastApplied: UInt32, newestTick: UInt32, unacknowledgedInputs: Int, corrections: Int, teleports: UInt64
        var lastCorrection: Double, interpolationDelayTicks: Double, jitterTicks: Double, renderTick: Double
        var snapshotsReceived: UInt64, snapshotsDropped: UInt64
        /// The frame's local player: predicted plus the decaying correction (±1 subunit: it uses exp).
        var shown: Entity?
    }

    @Test func reconciliationVectors() throws {
        let rules = ArenaRules()
        // The client believes the room is empty; the server has the default map's obstacles, so
        // walking into them the client predicts through and is corrected. Snapshots arrive late
        // and unevenly, some out of order and some not at all, and a few inputs are lost.
        let clientSettings = MatchSettings(tickRate: 60, map: "empty")
        let client = ClientSimulation(rules: rules, settings: clientSettings)
        let server = MatchSimulation(rules: rules, settings: MatchSettings(tickRate: 60, map: "default"))
        server.join(9, name: "blind")
        server.join(10, name: "other")
        var random = SeededRandomSource(seed: 33)
        var inFlight: [(due: Double, bytes: [UInt8])] = []
        var steps: [ReconcileStep] = []
        var input = ArenaRules.Input(moveX: 127, moveY: 60)
        for tick in 0..<600 {
            let now = Double(tick) / 60
            if random.next() % 40 == 0 { input = Self.randomInput(&random) }
            input.buttons = 0
            let message = client.makeInputMessage(input, now: now)
            if random.next() % 12 != 0 { server.receive(message, from: 9) }
            server.receive(InputMessage(ackedSnapshot: 0, viewTick: 0, newestSequence: UInt32(tick + 1), inputs: [ArenaBot.input(tick: tick, bot: 3)]).encoded(with: rules), from: 10)
            server.step()
            if let snapshot = server.snapshot(for: 9), random.next() % 10 != 0 {
                inFlight.append((now + 0.03 + Double(random.next() % 30) / 1000, snapshot))
            }
            let due = inFlight.filter { $0.due <= now }
            inFlight.removeAll { $0.due <= now }
            for snapshot in due { client.receiveSnapshot(snapshot.bytes, now: now) }
            let frame = client.frame(now: now)
            steps.append(ReconcileStep(
                time: now, input: Input(input), message: Self.hex(message), snapshots: due.map { Self.hex($0.bytes) },
                predicted: client.predicted.map(Entity.init), lastApplied: client.lastApplied, newestTick: client.newestTick,
                unacknowledgedInputs: client.unacknowledgedInputs, corrections: client.corrections.count, teleports: client.teleports,
                lastCorrection: client.lastCorrection, interpolationDelayTicks: client.interpolationDelayTicks, jitterTicks: client.jitterTicks,
                renderTick: client.renderTick(now: now), snapshotsReceived: client.snapshotsReceived, snapshotsDropped: client.snapshotsDropped,
                shown: frame.local.map(Entity.init)))
        }
        #expect(client.corrections.count > 0, "the unseen walls must cause corrections")
        try Self.check("reconciliation.json", Self.document(
            meta: ["settings": "tickRate 60, map empty (the server plays default)", "replay": "each step: makeInputMessage(input, time), receiveSnapshot(each, time), frame(time)"],
            cases: steps))
    }

    // MARK: - A whole match session over the production server and channels

    struct SessionStep: Codable {
        var time: Double
        var deliver: [String]
        var input: Input
        var reliable: String?
        var sent: [String]
        var predicted: Entity?
        var newestTick: UInt32, lastApplied: UInt32, snapshotsReceived: UInt64, reliableReceived: Int, yourEntity: UInt16?
        var renderTick: Double
        /// Everyone else at `renderTick`: `interpolated(renderTick)` without the client's entity.
        var remote: [Entity]
    }
    struct SessionMeta: Codable { var settings: Settings, description: String, finalRTT: Double, finalLoss: Double }

    struct Outbox: MatchServerOutput {
        var packets: [(client: Int, bytes: [UInt8])] = []
        mutating func send(_ packet: UnsafeRawBufferPointer, to client: Int) { packets.append((client, Array(packet))) }
        mutating func disconnect(_ client: Int) {}
    }

    @Test func matchSessionVectors() throws {
        let rules = ArenaRules()
        let settings = MatchSettings(tickRate: 60, map: "default")
        let registry = LocalMatchRegistry(book: MatchBook(order: ArenaRules.standingsOrder))
        var seeds = SeededRandomSource(seed: 1)
        let matchID = registry.create(settings: settings, now: 0, random: &seeds)
        let server = MatchServer(rules: rules, registry: registry)
        let link = LinkSimulator(conditions: LinkConditions(latency: 0.03, jitter: 0.008, loss: 0.05), seed: 11)
        let serverAddress = NetAddress(ipv4: 10, 0, 0, 1, port: 1)
        let addresses = [NetAddress(ipv4: 10, 0, 0, 2, port: 2), NetAddress(ipv4: 10, 0, 0, 3, port: 3)]
        let sessions = try [MatchClientSession(rules: rules, settings: settings), MatchClientSession(rules: rules, settings: settings)]
        var outbox = Outbox()
        for (index, player) in [PlayerID(1), 2].enumerated() {
            server.clientConnected(index, clientID: player, ticket: MatchTicket(matchID: matchID, playerID: player, displayName: "p\(player)"), now: 0, output: &outbox)
        }
        var random = SeededRandomSource(seed: 44)
        var input = ArenaRules.Input(moveX: 100, moveY: -50)
        var steps: [SessionStep] = []
        var time = 0.0
        let wallClock = Date(timeIntervalSince1970: 1_800_000_000)
        for tick in 0..<480 {
            var deliver: [String] = []
            for datagram in link.receive(now: time) {
                if datagram.to == serverAddress {
                    guard let index = addresses.firstIndex(of: datagram.from) else { continue }
                    datagram.bytes.withUnsafeBytes { server.payloadReceived(index, bytes: $0, now: time, output: &outbox) }
                } else if let index = addresses.firstIndex(of: datagram.to) {
                    if index == 0 { deliver.append(Self.hex(datagram.bytes)) }
                    datagram.bytes.withUnsafeBytes { sessions[index].handlePacket($0, now: time) }
                }
            }
            // As ArbiterClient.tick does: every packet first, then the messages.
            for session in sessions { session.deliverMessages(now: time) }
            if random.next() % 30 == 0 { input = Self.randomInput(&random) }
            input.buttons = 0
            sessions[0].sendInput(input, now: time)
            sessions[1].sendInput(ArenaBot.input(tick: tick, bot: 1), now: time)
            let reliable: [UInt8]? = tick % 50 == 10 ? Self.payload(tick % 100 == 10 ? 1000 : 24, seed: tick) : nil
            if let reliable { #expect(sessions[0].sendReliable(reliable)) }
            _ = server.tick(now: time, wallClock: wallClock.addingTimeInterval(time), output: &outbox)
            for (client, bytes) in outbox.packets { link.send(bytes, from: serverAddress, to: addresses[client], now: time) }
            outbox.packets.removeAll()
            var sent: [String] = []
            for (index, session) in sessions.enumerated() {
                session.generatePackets(now: time) { packet in
                    if index == 0 { sent.append(Self.hex(packet)) }
                    link.send(Array(packet), from: addresses[index], to: serverAddress, now: time)
                }
            }
            let simulation = sessions[0].simulation
            let renderTick = simulation.renderTick(now: time)
            steps.append(SessionStep(
                time: time, deliver: deliver, input: Input(input), reliable: reliable.map { Self.hex($0) }, sent: sent,
                predicted: simulation.predicted.map(Entity.init), newestTick: simulation.newestTick, lastApplied: simulation.lastApplied,
                snapshotsReceived: simulation.snapshotsReceived, reliableReceived: sessions[0].reliableReceived, yourEntity: simulation.yourEntity,
                renderTick: renderTick, remote: simulation.interpolated(at: renderTick).filter { $0.id != simulation.yourEntity }.map(Entity.init)))
            time += 1.0 / 60
        }
        #expect(sessions[0].simulation.snapshotsReceived > 300)
        #expect(sessions[0].reliableReceived > 5)
        let statistics = sessions[0].channels.statistics
        try Self.check("match-session.json", Self.document(
            meta: SessionMeta(
                settings: Settings(tickRate: 60, map: "default"),
                description: "player 1 of a two-player match on MatchServer over a link with 30 ms latency and 5 % loss; each step: handle every delivered packet at time, deliverMessages(time), sendInput(input, time), sendReliable(reliable) if any, generatePackets(time)",
                finalRTT: statistics.rtt, finalLoss: statistics.packetLoss),
            cases: steps))
    }

    // MARK: - Match over

    struct MatchOverCase: Codable {
        /// The player id as a decimal string (JSON numbers lose digits beyond 2^53 in JavaScript).
        struct Line: Codable { var playerID: String, displayName: String, score: Int, kills: Int, deaths: Int }
        var bytes: String
        var lines: [Line]?
    }

    @Test func matchOverVectors() throws {
        let standings = [
            ScoreLine(playerID: 42, displayName: "Ada", score: 12, kills: 12, deaths: 3),
            ScoreLine(playerID: 9_007_199_254_740_993, displayName: "Grace Hopper ✓", score: -5, kills: 0, deaths: 70_000),
            ScoreLine(playerID: 7, displayName: String(repeating: "x", count: 40), score: 3_000_000_000, kills: 1, deaths: 1),
        ]
        let bytes = MatchOverMessage.encode(standings)
        var cases: [MatchOverCase] = []
        for candidate in [bytes, MatchOverMessage.encode([]), Array(bytes.dropLast()), bytes + [0]] {
            let lines = MatchOverMessage.decode(candidate)
            cases.append(MatchOverCase(bytes: Self.hex(candidate), lines: lines?.map {
                .init(playerID: String($0.playerID), displayName: $0.displayName, score: $0.score, kills: $0.kills, deaths: $0.deaths)
            }))
        }
        try Self.check("match-over.json", Self.document(meta: ["format": "docs/PROTOCOL.md, Match over (kind 4)"], cases: cases))
    }
}
