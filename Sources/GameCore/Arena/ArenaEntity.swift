/// The arena's entity as its snapshots carry it (``SnapshotEntity``): players and projectiles,
/// already quantised.
///
/// Positions and velocities are in world subunits (1/4096 of a unit); `aim` is a 16-bit angle.
public struct ArenaEntity: Sendable, Equatable, Hashable {
    public enum Kind: UInt8, Sendable { case player = 0, projectile = 1 }

    public var id: EntityID
    public var kind: Kind
    public var x: Int32
    public var y: Int32
    public var vx: Int32
    public var vy: Int32
    public var aim: UInt16
    public var health: UInt8
    /// Game-defined bits (alive, firing, ...).
    public var flags: UInt8
    /// The owning player (for player entities: themselves).
    public var owner: UInt16
    public var score: UInt16
    public var kills: UInt16
    public var deaths: UInt16

    public init(id: EntityID, kind: Kind, x: Int32, y: Int32, vx: Int32 = 0, vy: Int32 = 0, aim: UInt16 = 0, health: UInt8 = 0,
                flags: UInt8 = 0, owner: UInt16 = 0, score: UInt16 = 0, kills: UInt16 = 0, deaths: UInt16 = 0) {
        self.id = id
        self.kind = kind
        self.x = x
        self.y = y
        self.vx = vx
        self.vy = vy
        self.aim = aim
        self.health = health
        self.flags = flags
        self.owner = owner
        self.score = score
        self.kills = kills
        self.deaths = deaths
    }
}

/// The arena's snapshot fields: position and velocity (small differences when they moved a
/// little), aim (the shorter way round), health, flags, owner, score, kills, deaths.
extension ArenaEntity: SnapshotEntity {
    static let positionBits = 21
    static let velocityBits = 17
    static let smallDeltaBits = 12
    static let smallVelocityBits = 9
    static let smallAimBits = 10

    // Field order in the change mask.
    enum Field: Int, CaseIterable {
        case position, velocity, aim, health, flags, owner, score, kills, deaths
    }

    static let fieldCount = 9

    public var wireKind: UInt8 { kind.rawValue }

    public static let fullBits = 2 * Self.positionBits + 2 * Self.velocityBits + 16 + 8 + 8 + 16 * 4

    /// A player that died or respawned jumps; it is not interpolated across.
    public func interpolates(from old: ArenaEntity) -> Bool { old.flags == flags }

    /// Bits `writeDelta` would write, computed without writing.
    public func deltaBits(from old: ArenaEntity) -> Int {
        let entity = self
        var bits = Self.fieldCount
        func pair(_ a: (Int32, Int32), _ b: (Int32, Int32), small: Int, full: Int) -> Int {
            let limit = Int64(1) << Int64(small - 1)
            let fits = abs(Int64(a.0) - Int64(b.0)) < limit && abs(Int64(a.1) - Int64(b.1)) < limit
            return 1 + 2 * (fits ? small : full)
        }
        if entity.x != old.x || entity.y != old.y { bits += pair((entity.x, entity.y), (old.x, old.y), small: Self.smallDeltaBits, full: Self.positionBits) }
        if entity.vx != old.vx || entity.vy != old.vy { bits += pair((entity.vx, entity.vy), (old.vx, old.vy), small: Self.smallVelocityBits, full: Self.velocityBits) }
        if entity.aim != old.aim {
            let turn = Int64(Int16(bitPattern: entity.aim &- old.aim))
            bits += 1 + (abs(turn) < Int64(1) << Int64(Self.smallAimBits - 1) ? Self.smallAimBits : 16)
        }
        if entity.health != old.health { bits += 8 }
        if entity.flags != old.flags { bits += 8 }
        if entity.owner != old.owner { bits += 16 }
        if entity.score != old.score { bits += 16 }
        if entity.kills != old.kills { bits += 16 }
        if entity.deaths != old.deaths { bits += 16 }
        return bits
    }

    public func writeFull(into writer: inout BitWriter) {
        let entity = self
        writer.writeSigned(Int64(entity.x), bits: Self.positionBits)
        writer.writeSigned(Int64(entity.y), bits: Self.positionBits)
        writer.writeSigned(Int64(entity.vx), bits: Self.velocityBits)
        writer.writeSigned(Int64(entity.vy), bits: Self.velocityBits)
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

    public func writeDelta(from old: ArenaEntity, into writer: inout BitWriter) {
        let entity = self
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
        writer.write(UInt64(mask), bits: Self.fieldCount)
        func changed(_ field: Field) -> Bool { mask & (1 << UInt16(field.rawValue)) != 0 }
        if changed(.position) {
            Self.writePair((entity.x, entity.y), from: (old.x, old.y), smallBits: Self.smallDeltaBits, fullBits: Self.positionBits, into: &writer)
        }
        if changed(.velocity) {
            Self.writePair((entity.vx, entity.vy), from: (old.vx, old.vy), smallBits: Self.smallVelocityBits, fullBits: Self.velocityBits, into: &writer)
        }
        if changed(.aim) {
            // The shorter way round the circle.
            let turn = Int64(Int16(bitPattern: entity.aim &- old.aim))
            if abs(turn) < Int64(1) << Int64(Self.smallAimBits - 1) {
                writer.write(true)
                writer.writeSigned(turn, bits: Self.smallAimBits)
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

    public static func readFull(id: EntityID, wireKind: UInt8, from reader: inout BitReader) -> ArenaEntity? {
        guard let kind = Kind(rawValue: wireKind) else { return nil }
        guard let x = reader.readSigned(bits: Self.positionBits), let y = reader.readSigned(bits: Self.positionBits),
            let vx = reader.readSigned(bits: Self.velocityBits), let vy = reader.readSigned(bits: Self.velocityBits),
            let aim = reader.read(bits: 16), let health = reader.read(bits: 8), let flags = reader.read(bits: 8),
            let owner = reader.read(bits: 16), let score = reader.read(bits: 16), let kills = reader.read(bits: 16),
            let deaths = reader.read(bits: 16)
        else { return nil }
        return ArenaEntity(
            id: id, kind: kind, x: Int32(x), y: Int32(y), vx: Int32(vx), vy: Int32(vy), aim: UInt16(aim), health: UInt8(health),
            flags: UInt8(flags), owner: UInt16(owner), score: UInt16(score), kills: UInt16(kills), deaths: UInt16(deaths))
    }

    public static func readDelta(from old: ArenaEntity, reader: inout BitReader) -> ArenaEntity? {
        guard let rawMask = reader.read(bits: Self.fieldCount) else { return nil }
        func has(_ field: Field) -> Bool { rawMask & (1 << UInt64(field.rawValue)) != 0 }
        var entity = old
        if has(.position) {
            guard let position = Self.readPair(from: (old.x, old.y), smallBits: Self.smallDeltaBits, fullBits: Self.positionBits, reader: &reader) else { return nil }
            (entity.x, entity.y) = position
        }
        if has(.velocity) {
            guard let velocity = Self.readPair(from: (old.vx, old.vy), smallBits: Self.smallVelocityBits, fullBits: Self.velocityBits, reader: &reader) else { return nil }
            (entity.vx, entity.vy) = velocity
        }
        if has(.aim) {
            guard let small = reader.readBool() else { return nil }
            if small {
                guard let turn = reader.readSigned(bits: Self.smallAimBits) else { return nil }
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
