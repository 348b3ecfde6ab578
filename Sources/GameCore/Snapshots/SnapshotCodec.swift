/// The snapshot format (docs/PROTOCOL.md): a header, then each entity of the baseline the client
/// acknowledged (kept, changed with the game's delta, or gone), then the new ones in full. The
/// entity fields and their codec are the game's (``SnapshotEntity``).
public enum SnapshotCodec {
    public static let kind: UInt8 = 2
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

    /// Encodes `entities` (sorted by id) against `baseline` (sorted by id, the snapshot of
    /// `header.baselineTick`, at most 255 ticks older), or in full when `baseline` is nil.
    public static func encode<Entity: SnapshotEntity>(header: Header, entities: [Entity], baseline: [Entity]?) -> [UInt8] {
        let encoder = SnapshotEncoder<Entity>()
        return encoder.encode(header: header, entities: entities, baseline: baseline, staleInBaseline: [], budgetBytes: nil, priority: { _ in 0 })
    }

    /// Bits of a new-entity entry: id, kind, and the game's full fields.
    @inlinable static func fullEntryBits<Entity: SnapshotEntity>(_: Entity.Type) -> Int { 16 + 2 + Entity.fullBits }

    /// Reads the header only (to find the baseline before decoding the rest).
    public static func readHeader(_ bytes: [UInt8]) -> Header? {
        var reader = BitReader(bytes)
        return readHeader(&reader)
    }

    @usableFromInline static func readHeader(_ reader: inout BitReader) -> Header? {
        guard reader.read(bits: 8) == UInt64(kind), let tick = reader.read(bits: 32), let age = reader.read(bits: 8),
            let input = reader.read(bits: 32), let entity = reader.read(bits: 16), UInt64(age) <= tick
        else { return nil }
        return Header(tick: UInt32(tick), baselineTick: age == 0 ? 0 : UInt32(tick) - UInt32(age), lastAppliedInput: UInt32(input), yourEntity: EntityID(entity))
    }

    /// Decodes a snapshot; `baseline` returns the entities of an earlier snapshot by tick.
    @inlinable public static func decode<Entity: SnapshotEntity>(
        _ bytes: [UInt8], baseline: (UInt32) -> [Entity]?
    ) throws(DecodeError) -> (Header, [Entity]) {
        var reader = BitReader(bytes)
        guard let header = readHeader(&reader) else { throw .malformed }
        var entities: [Entity] = []
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
                guard let entity = Entity.readDelta(from: old, reader: &reader) else { throw .malformed }
                entities.append(entity)
            }
        }
        guard let freshCount = reader.read(bits: 16) else { throw .malformed }
        var seen = Set(entities.map(\.id))
        for _ in 0..<freshCount {
            guard let rawID = reader.read(bits: 16), let kind = reader.read(bits: 2),
                let entity = Entity.readFull(id: EntityID(rawID), wireKind: UInt8(kind), from: &reader), seen.insert(entity.id).inserted
            else { throw .malformed }
            entities.append(entity)
        }
        guard !reader.failed, reader.remainingBits < 8 else { throw .malformed }
        return (header, entities.sorted { $0.id < $1.id })
    }

}

/// The last snapshots of one match's world, shared by every client's encoder.
public struct WorldHistory<Entity: SnapshotEntity>: Sendable {
    @usableFromInline var ticks: [UInt32]
    @usableFromInline var worlds: [[Entity]]
    @usableFromInline var next = 0
    public let capacity: Int

    @inlinable public init(capacity: Int = 64) {
        self.capacity = capacity
        ticks = [UInt32](repeating: 0, count: capacity)
        worlds = [[Entity]](repeating: [], count: capacity)
    }

    @inlinable public mutating func record(tick: UInt32, entities: [Entity]) {
        record(tick: tick) { $0.append(contentsOf: entities) }
    }

    /// Records `tick`'s world, which `fill` appends to the slot's own (emptied) storage: the
    /// slot that leaves the history is refilled in place, so recording allocates nothing once
    /// every slot has grown to the world's size.
    @inlinable public mutating func record(tick: UInt32, _ fill: (inout [Entity]) -> Void) {
        ticks[next] = tick
        worlds[next].removeAll(keepingCapacity: true)
        fill(&worlds[next])
        next = (next + 1) % capacity
    }

    @inlinable public func entities(at tick: UInt32) -> [Entity]? {
        guard tick != 0, let index = ticks.firstIndex(of: tick) else { return nil }
        return worlds[index]
    }
}
