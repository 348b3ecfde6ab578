import MatchContract
import Foundation

/// The client half of a match, sans-IO: it turns local inputs into input messages while
/// predicting the local player with the game's own step code, reconciles on every snapshot
/// (rewind to the server's state at the last applied input, replay the inputs since), smooths the
/// visible correction over a few frames, and interpolates everyone else from a buffer whose delay
/// follows the measured jitter and loss.
///
/// `now` is the client's monotonic time in seconds; nothing here reads a clock.
public final class ClientSimulation<Rules: GameRules> {
    public let rules: Rules
    public let settings: MatchSettings
    public let tickRate: Double

    // Inputs and prediction.
    public private(set) var inputSequence: UInt32 = 0
    private var pending: [(sequence: UInt32, input: Rules.Input)] = []
    public private(set) var predicted: Rules.Entity?
    public private(set) var yourEntity: EntityID?

    // Corrections.
    private var smoothingX = 0.0
    private var smoothingY = 0.0
    private var lastRender: Double?
    /// The size of the last correction, in world units.
    public private(set) var lastCorrection = 0.0
    public private(set) var corrections: [Double] = []
    /// Position jumps too large to be prediction errors (respawns).
    public private(set) var teleports: UInt64 = 0

    // Snapshots.
    private var received: [(tick: UInt32, entities: [Rules.Entity], arrival: Double)] = []
    public private(set) var newestTick: UInt32 = 0
    public private(set) var snapshotsReceived: UInt64 = 0
    public private(set) var snapshotsDropped: UInt64 = 0
    public private(set) var lastApplied: UInt32 = 0

    // Clock sync: server tick ≈ now × rate + offset, and the arrival jitter around it.
    private var tickOffset: Double?
    public private(set) var jitterTicks = 0.0
    private var lostTicks = 0.0
    public private(set) var interpolationDelayTicks = 2.0
    /// Render no further ahead of the newest snapshot than this (ticks) when extrapolating.
    public var maxExtrapolationTicks = 3.0
    /// Off for clients that never draw (light load-test bots): no local prediction or replay;
    /// the local player is simply the server's latest copy. Inputs, acknowledgements and
    /// snapshots work as ever.
    public var predicts = true

    public init(rules: Rules, settings: MatchSettings) {
        self.rules = rules
        self.settings = settings
        tickRate = Double(settings.tickRate)
    }

    /// Records this tick's input, predicts its effect, and returns the message to send
    /// (unreliably; it repeats the newest unacknowledged inputs).
    public func makeInputMessage(_ input: Rules.Input, now: Double) -> [UInt8] {
        inputSequence &+= 1
        pending.append((inputSequence, input))
        if pending.count > 256 { pending.removeFirst(pending.count - 256) }
        if predicts, let current = predicted { predicted = rules.predict(current, input: input, settings: settings) }
        let recent = pending.suffix(InputMessage<Rules.Input>.maxInputs).reversed().map(\.input)
        let message = InputMessage(ackedSnapshot: newestTick, viewTick: UInt32(max(0, min(Double(UInt32.max), renderTick(now: now).rounded(.down)))), newestSequence: inputSequence, inputs: recent)
        return message.encoded(with: rules)
    }

    /// A snapshot from the server. Returns false if it could not be used (malformed, missing
    /// baseline, or older than what we have).
    @discardableResult
    public func receiveSnapshot(_ bytes: [UInt8], now: Double) -> Bool {
        let decoded: (SnapshotCodec.Header, [Rules.Entity])
        do {
            decoded = try SnapshotCodec.decode(bytes) { tick in self.received.last { $0.tick == tick }?.entities }
        } catch {
            snapshotsDropped &+= 1
            return false
        }
        let (header, entities) = decoded
        guard header.tick > newestTick else {
            snapshotsDropped &+= 1
            return false
        }
        snapshotsReceived &+= 1
        if newestTick > 0 && header.tick > newestTick + 1 { lostTicks += Double(header.tick - newestTick - 1) }
        lostTicks *= 0.95
        newestTick = header.tick
        received.append((header.tick, entities, now))
        if received.count > 64 { received.removeFirst(received.count - 64) }
        updateClock(tick: header.tick, now: now)
        yourEntity = header.yourEntity
        reconcile(server: entities.first { $0.id == header.yourEntity }, lastApplied: header.lastAppliedInput)
        return true
    }

    private func updateClock(tick: UInt32, now: Double) {
        let sample = Double(tick) - now * tickRate
        guard let offset = tickOffset else {
            tickOffset = sample
            return
        }
        // Late packets show up as a lower offset; track the deviation as jitter, and let the
        // offset follow the earliest arrivals (they carry the least queueing delay).
        let deviation = offset - sample
        jitterTicks += (abs(deviation) - jitterTicks) * 0.1
        tickOffset = sample > offset ? offset + (sample - offset) * 0.5 : offset + (sample - offset) * 0.02
        let lossAllowance = min(4, lostTicks * 0.5)
        interpolationDelayTicks = min(20, max(1.5, 1 + 2.5 * jitterTicks + lossAllowance))
    }

    private func reconcile(server: Rules.Entity?, lastApplied applied: UInt32) {
        guard let server else {
            // No entity of our own (spectating, or not yet spawned into the world).
            predicted = nil
            return
        }
        lastApplied = applied
        pending.removeAll { $0.sequence <= applied }
        guard predicts else {
            predicted = server
            return
        }
        var replayed = server
        for (_, input) in pending { replayed = rules.predict(replayed, input: input, settings: settings) }
        if let before = predicted {
            let dx = Double(before.x - replayed.x)
            let dy = Double(before.y - replayed.y)
            let size = (dx * dx + dy * dy).squareRoot() / Double(ArenaMap.unit)
            if size >= 4 {
                // A teleport (respawn), not a prediction error: shown at once, not counted.
                teleports &+= 1
                smoothingX = 0
                smoothingY = 0
            } else if size > 0 {
                lastCorrection = size
                corrections.append(size)
                if corrections.count > 1000 { corrections.removeFirst(corrections.count - 1000) }
                smoothingX += dx
                smoothingY += dy
            }
        }
        predicted = replayed
    }

    /// The server tick the client should be displaying for remote entities now.
    public func renderTick(now: Double) -> Double {
        guard let offset = tickOffset else { return 0 }
        return now * tickRate + offset - interpolationDelayTicks
    }

    /// What a renderer needs this frame.
    public struct Frame: Sendable {
        /// The local player: predicted, plus the decaying correction offset.
        public var local: Rules.Entity?
        /// Everyone and everything else, interpolated at `renderTick`.
        public var remote: [Rules.Entity]
        public var renderTick: Double
        /// The newest snapshot's entities as they arrived (not interpolated).
        public var latest: [Rules.Entity]
    }

    public func frame(now: Double) -> Frame {
        let elapsed = lastRender.map { max(0, now - $0) } ?? 0
        lastRender = now
        let decay = exp(-elapsed / 0.1)
        smoothingX *= decay
        smoothingY *= decay
        var local = predicted
        if var shown = local {
            shown.x += Int32(smoothingX.rounded())
            shown.y += Int32(smoothingY.rounded())
            local = shown
        }
        let tick = renderTick(now: now)
        let remote = interpolated(at: tick).filter { $0.id != yourEntity }
        return Frame(local: local, remote: remote, renderTick: tick, latest: received.last?.entities ?? [])
    }

    /// Entities at a fractional server tick: between the two snapshots around it, or carried on
    /// from the newest for at most `maxExtrapolationTicks`.
    public func interpolated(at tick: Double) -> [Rules.Entity] {
        guard let newest = received.last else { return [] }
        guard let upperIndex = received.firstIndex(where: { Double($0.tick) >= tick }) else {
            let ahead = min(maxExtrapolationTicks, tick - Double(newest.tick))
            return newest.entities.map { entity in
                var moved = entity
                moved.x += Int32((Double(entity.vx) * ahead).rounded())
                moved.y += Int32((Double(entity.vy) * ahead).rounded())
                return moved
            }
        }
        let upper = received[upperIndex]
        guard upperIndex > 0 else { return upper.entities }
        let lower = received[upperIndex - 1]
        let span = Double(upper.tick - lower.tick)
        let t = span > 0 ? (tick - Double(lower.tick)) / span : 1
        let before = Dictionary(lower.entities.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return upper.entities.map { entity in
            guard let old = before[entity.id], entity.interpolates(from: old) else { return entity }
            var mixed = entity
            mixed.x = old.x + Int32((Double(entity.x - old.x) * t).rounded())
            mixed.y = old.y + Int32((Double(entity.y - old.y) * t).rounded())
            return mixed
        }
    }

    /// Inputs sent but not yet applied by the server.
    public var unacknowledgedInputs: Int { pending.count }
}
