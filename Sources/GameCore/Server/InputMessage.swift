/// The client's input message (docs/PROTOCOL.md), sent every client tick on an unreliable
/// channel: the newest snapshot it decoded (the server's delta baseline), the server tick it is
/// rendering (for lag compensation), and its newest inputs, newest first, so that one lost
/// packet loses no input.
public struct InputMessage<Input: Sendable & Equatable>: Sendable, Equatable {
    public static var kind: UInt8 { 1 }
    public static var maxInputs: Int { 8 }

    public var ackedSnapshot: UInt32
    public var viewTick: UInt32
    /// Sequence of `inputs[0]`; `inputs[i]` has sequence `newestSequence - i`.
    public var newestSequence: UInt32
    public var inputs: [Input]

    public init(ackedSnapshot: UInt32, viewTick: UInt32, newestSequence: UInt32, inputs: [Input]) {
        self.ackedSnapshot = ackedSnapshot
        self.viewTick = viewTick
        self.newestSequence = newestSequence
        self.inputs = inputs
    }

    public func encoded<Rules: GameRules>(with rules: Rules) -> [UInt8] where Rules.Input == Input {
        var writer = BitWriter()
        writer.write(UInt64(Self.kind), bits: 8)
        writer.write(UInt64(ackedSnapshot), bits: 32)
        writer.write(UInt64(viewTick), bits: 32)
        writer.write(UInt64(newestSequence), bits: 32)
        writer.write(UInt64(inputs.count), bits: 4)
        for input in inputs { rules.encode(input, into: &writer) }
        return writer.finish()
    }

    /// Nil for anything malformed: wrong kind, 0 or more than 8 inputs, truncation, trailing junk,
    /// or an input the rules refuse.
    public static func decode<Rules: GameRules>(_ bytes: [UInt8], rules: Rules) -> InputMessage? where Rules.Input == Input {
        var inputs: [Input] = []
        guard let header = decode(bytes, rules: rules, into: &inputs) else { return nil }
        return InputMessage(ackedSnapshot: header.ackedSnapshot, viewTick: header.viewTick, newestSequence: header.newestSequence, inputs: inputs)
    }

    /// The same, with the inputs decoded into `inputs` (emptied first, capacity kept): the
    /// server's per-message path, which allocates nothing once `inputs` has grown.
    public static func decode<Rules: GameRules>(
        _ bytes: [UInt8], rules: Rules, into inputs: inout [Input]
    ) -> (ackedSnapshot: UInt32, viewTick: UInt32, newestSequence: UInt32)? where Rules.Input == Input {
        inputs.removeAll(keepingCapacity: true)
        var reader = BitReader(bytes)
        guard reader.read(bits: 8) == UInt64(kind), let acked = reader.read(bits: 32), let view = reader.read(bits: 32),
            let newest = reader.read(bits: 32), let count = reader.read(bits: 4), count >= 1, count <= UInt64(maxInputs)
        else { return nil }
        for _ in 0..<count {
            guard let raw = rules.decodeInput(from: &reader), let input = rules.validate(raw) else { return nil }
            inputs.append(input)
        }
        guard !reader.failed, reader.remainingBits < 8 else { return nil }
        return (UInt32(acked), UInt32(view), UInt32(newest))
    }
}

/// One client's inputs waiting to be applied. Exactly one is applied per tick: the next in
/// sequence if it has arrived, otherwise the last one again (its sequence is then consumed, and
/// the real one is dropped as stale if it turns up). A client can therefore never apply more
/// inputs than ticks have passed.
///
/// The buffer first fills to `targetQueued` inputs before it starts, so a lost packet's inputs
/// (repeated in the next one) still arrive in time; it adapts the target up after starving and
/// skips the oldest inputs when more than `maxQueued` wait, so latency does not build up.
public struct InputBuffer<Input: Sendable & Equatable>: Sendable {
    public private(set) var lastApplied: UInt32 = 0
    private var pending: [UInt32: Input] = [:]
    private var last: Input
    private var started = false
    public private(set) var targetQueued: Int
    public let maxQueued: Int
    public private(set) var repeated: UInt64 = 0
    public private(set) var stale: UInt64 = 0
    public private(set) var skipped: UInt64 = 0

    public init(idle: Input, targetQueued: Int = 2, maxQueued: Int = 8) {
        last = idle
        self.targetQueued = targetQueued
        self.maxQueued = maxQueued
    }

    /// Queues the inputs of a message; old, duplicate or absurdly-far-ahead ones are dropped.
    public mutating func receive(newestSequence: UInt32, inputs: [Input]) {
        for (offset, input) in inputs.enumerated() {
            let sequence = newestSequence &- UInt32(offset)
            if sequence <= lastApplied || sequence > lastApplied &+ 64 {
                stale &+= 1
                continue
            }
            pending[sequence] = input
        }
        while pending.count > maxQueued, let first = pending.keys.min() {
            pending.removeValue(forKey: first)
            lastApplied = first
            skipped &+= 1
        }
    }

    /// The input for this tick.
    public mutating func next() -> Input {
        if !started {
            guard pending.count >= targetQueued, let first = pending.keys.min() else { return last }
            started = true
            if first > lastApplied &+ 1 { lastApplied = first &- 1 }
        }
        let sequence = lastApplied &+ 1
        if let input = pending.removeValue(forKey: sequence) {
            last = input
        } else {
            repeated &+= 1
            // Starved: refill to a deeper reserve before going on.
            if targetQueued < maxQueued / 2 { targetQueued += 1 }
            started = false
        }
        lastApplied = sequence
        return last
    }

    public var queued: Int { pending.count }
}
