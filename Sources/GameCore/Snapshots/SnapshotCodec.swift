/// The snapshot format (docs/PROTOCOL.md): a header, then each entity that is new or changed
/// against the baseline the client acknowledged, field by field, then the ids removed since.
/// Positions that moved a little are sent as small differences.
public enum SnapshotCodec {
    public static let kind: UInt8 = 2
    static let positionBits = 21
    static let velocityBits = 17
    static let smallDeltaBits = 12
    static let smallVelocityBits = 9
    static let smallAimBits = 10

    public struct Header: Sendable, Equatable {
        public var tick: UInt32
        /// The snapshot this one is a delta against; 0 for a full snapshot.
        public var baselineTick: UInt32
        /// The newest input sequence the server has applied for this client.
        public var lastAppliedInput: UInt32
        /// The client's own entity.
        public var yourEntity: EntityID

        public init(tick: UInt32, baselineTick: UInt32, lastAppliedInput: UInt32, yourEntity: EntityID) {
            self.tick = tick
            self.baselineTick = baselineTick
            self.lastAppliedInput = lastAppliedInput
            self.yourEntity = yourEntity
        }
    }

    public enum DecodeError: Error, Equatable, Sendable {
        case malformed
        /// The baseline the snapshot refers to is not (or no longer) held.
        case missingBaseline(UInt32)
    }

    // Field order in the change mask.
    enum Field: Int, CaseIterable {
        case position, velocity, aim, health, flags, owner, score, kills, deaths
    }

    static let fieldCount = 9

    /// Encodes `entities` (sorted by id) against `baseline` (sorted by id, the snapshot of
    /// `header.baselineTick`, at most 255 ticks older), or in full when `baseline` is nil.
    public static func encode(header: Header, entities: [EntityState], baseline: [EntityState]?) -> [UInt8] {
        let encoder = SnapshotEncoder()
        return encoder.encode(header: header, entities: entities, baseline: baseline, staleInBaseline: [], budgetBytes: nil, priority: { _ in 0 })
    }

    /// Bits of a new-entity entry: id, kind, and every field.
    static let fullEntryBits = 16 + 2 + 2 * positionBits + 2 * velocityBits + 16 + 8 + 8 + 16 * 4

    /// Bits `writeDelta` would write, computed without writing.
    static func deltaBits(_ entity: EntityState, from old: EntityState) -> Int {
        var bits = fieldCount
        func pair(_ a: (Int32, Int32), _ b: (Int32, Int32), small: Int, full: Int) -> Int {
            let limit = Int64(1) << Int64(small - 1)
            let fits = abs(Int64(a.0) - Int64(b.0)) < limit && abs(Int64(a.1) - Int64(b.1)) < limit
            return 1 + 2 * (fits ? small : full)
        }
        if entity.x != old.x || entity.y != old.y { bits += pair((entity.x, entity.y), (old.x, old.y), small: smallDeltaBits, full: positionBits) }
        if entity.vx != old.vx || entity.vy != old.vy { bits += pair((entity.vx, entity.vy), (old.vx, old.vy), small: smallVelocityBits, full: velocityBits) }
        if entity.aim != old.aim {
            let turn = Int64(Int16(bitPattern: entity.aim &- old.aim))
            bits += 1 + (abs(turn) < Int64(1) << Int64(smallAimBits - 1) ? smallAimBits : 16)
        }
        if entity.health != old.health { bits += 8 }
        if entity.flags != old.flags { bits += 8 }
        if entity.owner != old.owner { bits += 16 }
        if entity.score != old.score { bits += 16 }
        if entity.kills != old.kills { bits += 16 }
        if entity.deaths != old.deaths { bits += 16 }
        return bits
    }

    static func writeFull(_ entity: EntityState, into writer: inout BitWriter) {
        writer.writeSigned(Int64(entity.x), bits: positionBits)
        writer.writeSigned(Int64(entity.y), bits: positionBits)
        writer.writeSigned(Int64(entity.vx), bits: velocityBits)
        writer.writeSigned(Int64(entity.vy), bits: velocityBits)
        writer.write(UInt64(entity.aim), bits: 16)
        writer.write(UInt64(entity.health), bits: 8)
        writer.write(UInt64(entity.flags), bits: 8)
        writer.write(UInt64(entity.owner), bits: 16)
        writer.write(UInt64(entity.score), bits: 16)
        writer.write(UInt64(entity.kills), bits: 16)
        writer.write(UInt64(entity.deaths), bits: 16)
    }

    /// Two values: a small-flag, then both as differences in `smallBits` when they fit, or whole.
    static func writePair(_ value: (Int32, Int32), from old: (Int32, Int32), smallBits: Int, fullBits: Int, into writer: inout BitWriter) {
        let d0 = Int64(value.0) - Int64(old.0)
        let d1 = Int64(value.1) - Int64(old.1)
        let limit = Int64(1) << Int64(smallBits - 1)
        if abs(d0) < limit && abs(d1) < limit {
            writer.write(true)
            writer.writeSigned(d0, bits: smallBits)
            writer.writeSigned(d1, bits: smallBits)
        } else {
            writer.write(false)
            writer.writeSigned(Int64(value.0), bits: fullBits)
            writer.writeSigned(Int64(value.1), bits: fullBits)
        }
    }

    static func readPair(from old: (Int32, Int32), smallBits: Int, fullBits: Int, reader: inout BitReader) -> (Int32, Int32)? {
        guard let small = reader.readBool() else { return nil }
        if small {
            guard let d0 = reader.readSigned(bits: smallBits), let d1 = reader.readSigned(bits: smallBits) else { return nil }
            return (Int32(truncatingIfNeeded: Int64(old.0) + d0), Int32(truncatingIfNeeded: Int64(old.1) + d1))
        }
        guard let v0 = reader.readSigned(bits: fullBits), let v1 = reader.readSigned(bits: fullBits) else { return nil }
        return (Int32(v0), Int32(v1))
    }

    static func writeDelta(_ entity: EntityState, from old: EntityState, into writer: inout BitWriter) {
        // The change mask as bits, in field order (no array on this per-entity path).
        var mask: UInt16 = 0
        func mark(_ field: Field, _ changed: Bool) { if changed { mask |= 1 << UInt16(field.rawValue) } }
        mark(.position, entity.x != old.x || entity.y != old.y)
        mark(.velocity, entity.vx != old.vx || entity.vy != old.vy)
        mark(.aim, entity.aim != old.aim)
        mark(.health, entity.health != old.health)
        mark(.flags, entity.flags != old.flags)
        mark(.owner, entity.owner != old.owner)
        mark(.score, entity.score != old.score)
        mark(.kills, entity.kills != old.kills)
        mark(.deaths, entity.deaths != old.deaths)
        writer.write(UInt64(mask), bits: fieldCount)
        func changed(_ field: Field) -> Bool { mask & (1 << UInt16(field.rawValue)) != 0 }
        if changed(.position) {
            writePair((entity.x, entity.y), from: (old.x, old.y), smallBits: smallDeltaBits, fullBits: positionBits, into: &writer)
        }
        if changed(.velocity) {
            writePair((entity.vx, entity.vy), from: (old.vx, old.vy), smallBits: smallVelocityBits, fullBits: velocityBits, into: &writer)
        }
        if changed(.aim) {
            // The shorter way round the circle.
            let turn = Int64(Int16(bitPattern: entity.aim &- old.aim))
            if abs(turn) < Int64(1) << Int64(smallAimBits - 1) {
                writer.write(true)
                writer.writeSigned(turn, bits: smallAimBits)
            } else {
                writer.write(false)
                writer.write(UInt64(entity.aim), bits: 16)
            }
        }
        if changed(.health) { writer.write(UInt64(entity.health), bits: 8) }
        if changed(.flags) { writer.write(UInt64(entity.flags), bits: 8) }
        if changed(.owner) { writer.write(UInt64(entity.owner), bits: 16) }
        if changed(.score) { writer.write(UInt64(entity.score), bits: 16) }
        if changed(.kills) { writer.write(UInt64(entity.kills), bits: 16) }
        if changed(.deaths) { writer.write(UInt64(entity.deaths), bits: 16) }
    }

    /// Reads the header only (to find the baseline before decoding the rest).
    public static func readHeader(_ bytes: [UInt8]) -> Header? {
        var reader = BitReader(bytes)
        return readHeader(&reader)
    }

    static func readHeader(_ reader: inout BitReader) -> Header? {
        guard reader.read(bits: 8) == UInt64(kind), let tick = reader.read(bits: 32), let age = reader.read(bits: 8),
            let input = reader.read(bits: 32), let entity = reader.read(bits: 16), UInt64(age) <= tick
        else { return nil }
        return Header(tick: UInt32(tick), baselineTick: age == 0 ? 0 : UInt32(tick) - UInt32(age), lastAppliedInput: UInt32(input), yourEntity: EntityID(entity))
    }

    /// Decodes a snapshot; `baseline` returns the entities of an earlier snapshot by tick.
    public static func decode(_ bytes: [UInt8], baseline: (UInt32) -> [EntityState]?) throws(DecodeError) -> (Header, [EntityState]) {
        var reader = BitReader(bytes)
        guard let header = readHeader(&reader) else { throw .malformed }
        var entities: [EntityState] = []
        if header.baselineTick != 0 {
            guard let base = baseline(header.baselineTick) else { throw .missingBaseline(header.baselineTick) }
            entities.reserveCapacity(base.count)
            for old in base {
                guard let changed = reader.readBool() else { throw .malformed }
                if !changed {
                    entities.append(old)
                    continue
                }
                guard let gone = reader.readBool() else { throw .malformed }
                if gone { continue }
                guard let entity = readDelta(from: old, reader: &reader) else { throw .malformed }
                entities.append(entity)
            }
        }
        guard let freshCount = reader.read(bits: 16) else { throw .malformed }
        var seen = Set(entities.map(\.id))
        for _ in 0..<freshCount {
            guard let rawID = reader.read(bits: 16), let rawKind = reader.read(bits: 2), let kind = EntityState.Kind(rawValue: UInt8(rawKind)),
                let entity = readFull(id: EntityID(rawID), kind: kind, from: &reader), seen.insert(entity.id).inserted
            else { throw .malformed }
            entities.append(entity)
        }
        guard !reader.failed, reader.remainingBits < 8 else { throw .malformed }
        return (header, entities.sorted { $0.id < $1.id })
    }

    static func readFull(id: EntityID, kind: EntityState.Kind, from reader: inout BitReader) -> EntityState? {
        guard let x = reader.readSigned(bits: positionBits), let y = reader.readSigned(bits: positionBits),
            let vx = reader.readSigned(bits: velocityBits), let vy = reader.readSigned(bits: velocityBits),
            let aim = reader.read(bits: 16), let health = reader.read(bits: 8), let flags = reader.read(bits: 8),
            let owner = reader.read(bits: 16), let score = reader.read(bits: 16), let kills = reader.read(bits: 16),
            let deaths = reader.read(bits: 16)
        else { return nil }
        return EntityState(
            id: id, kind: kind, x: Int32(x), y: Int32(y), vx: Int32(vx), vy: Int32(vy), aim: UInt16(aim), health: UInt8(health),
            flags: UInt8(flags), owner: UInt16(owner), score: UInt16(score), kills: UInt16(kills), deaths: UInt16(deaths))
    }

    static func readDelta(from old: EntityState, reader: inout BitReader) -> EntityState? {
        guard let rawMask = reader.read(bits: fieldCount) else { return nil }
        func has(_ field: Field) -> Bool { rawMask & (1 << UInt64(field.rawValue)) != 0 }
        var entity = old
        if has(.position) {
            guard let position = readPair(from: (old.x, old.y), smallBits: smallDeltaBits, fullBits: positionBits, reader: &reader) else { return nil }
            (entity.x, entity.y) = position
        }
        if has(.velocity) {
            guard let velocity = readPair(from: (old.vx, old.vy), smallBits: smallVelocityBits, fullBits: velocityBits, reader: &reader) else { return nil }
            (entity.vx, entity.vy) = velocity
        }
        if has(.aim) {
            guard let small = reader.readBool() else { return nil }
            if small {
                guard let turn = reader.readSigned(bits: smallAimBits) else { return nil }
                entity.aim = old.aim &+ UInt16(truncatingIfNeeded: turn)
            } else {
                guard let v = reader.read(bits: 16) else { return nil }
                entity.aim = UInt16(v)
            }
        }
        if has(.health) { guard let v = reader.read(bits: 8) else { return nil }; entity.health = UInt8(v) }
        if has(.flags) { guard let v = reader.read(bits: 8) else { return nil }; entity.flags = UInt8(v) }
        if has(.owner) { guard let v = reader.read(bits: 16) else { return nil }; entity.owner = UInt16(v) }
        if has(.score) { guard let v = reader.read(bits: 16) else { return nil }; entity.score = UInt16(v) }
        if has(.kills) { guard let v = reader.read(bits: 16) else { return nil }; entity.kills = UInt16(v) }
        if has(.deaths) { guard let v = reader.read(bits: 16) else { return nil }; entity.deaths = UInt16(v) }
        return entity
    }

    /// The size of the same entities sent the naive way: every field a 32-bit float or int, no
    /// delta. The yardstick for the bandwidth goal.
    public static func naiveBytes(entities: Int) -> Int { 17 + entities * (2 + 1 + 4 * 4 + 4 + 1 + 1 + 2 + 6) }
}

/// The last snapshots of one match's world, shared by every client's encoder.
public struct WorldHistory: Sendable {
    private var ticks: [UInt32]
    private var worlds: [[EntityState]]
    private var next = 0
    public let capacity: Int

    public init(capacity: Int = 64) {
        self.capacity = capacity
        ticks = [UInt32](repeating: 0, count: capacity)
        worlds = [[EntityState]](repeating: [], count: capacity)
    }

    public mutating func record(tick: UInt32, entities: [EntityState]) {
        ticks[next] = tick
        worlds[next] = entities
        next = (next + 1) % capacity
    }

    public func entities(at tick: UInt32) -> [EntityState]? {
        guard tick != 0, let index = ticks.firstIndex(of: tick) else { return nil }
        return worlds[index]
    }
}
