/// Encodes snapshots (the format of ``SnapshotCodec``) with scratch buffers kept from call to
/// call: one encoder per match serves every client's snapshot each tick, and in steady state
/// nothing is allocated (the returned bytes share the encoder's buffer until the next call).
///
/// After each call, ``held`` lists (sorted by id) the entities the client will hold once it has
/// this snapshot, and ``stale`` those of them it holds only an older copy of (deferred for the
/// byte budget). The caller keeps both for when this snapshot becomes a baseline.
///
/// The encoder is `@inlinable` so that it is specialised for each game's entity type where the
/// game is instantiated (with cross-module optimisation, see docs/ARCHITECTURE.md): unspecialised,
/// every entity access goes through the witness tables and allocates.
public final class SnapshotEncoder<Entity: SnapshotEntity> {
    public var held: [EntityID] { heldIDs }
    public var stale: [EntityID] { staleIDs }
    /// How many entities ``held`` lists (without copying it).
    public var heldCount: Int { heldIDs.count }
    @usableFromInline var heldIDs: [EntityID] = []
    @usableFromInline var staleIDs: [EntityID] = []

    // Per entity i: its baseline index (or -1), the bits it would cost (0: nothing to send),
    // whether it goes in, and its priority.
    @usableFromInline var match: [Int] = []
    @usableFromInline var cost: [Int] = []
    @usableFromInline var included: [Bool] = []
    @usableFromInline var priorities: [Double] = []
    @usableFromInline var order: [Int] = []
    @usableFromInline var fresh: [Int] = []
    @usableFromInline var queued: [Bool] = []
    @usableFromInline var heldFromBaseline: [EntityID] = []
    @usableFromInline var freshIDs: [EntityID] = []
    @usableFromInline var writer = BitWriter(capacity: 1280)

    @inlinable public init() {}

    /// Encodes within `budgetBytes`, most important entities first (lowest `priority`).
    ///
    /// Entities that do not fit are deferred: the client keeps its older copy (or does not have
    /// them yet). `baseline` must be exactly the entities the client holds for that snapshot (its
    /// reconstruction), sorted by id, and `staleInBaseline` (sorted) those of them it holds only
    /// stale copies of; stale ones are resent in full.
    @inlinable public func encode(
        header: SnapshotCodec.Header, entities: [Entity], baseline: [Entity]?, staleInBaseline: [EntityID], budgetBytes: Int?,
        priority: (Entity) -> Double
    ) -> [UInt8] {
        let usable = header.baselineTick != 0 && header.tick &- header.baselineTick <= 255 && baseline != nil
        let base = usable ? (baseline ?? []) : []
        let count = entities.count
        // The scratch buffers are moved into locals for the call and back after it: the loops
        // below then touch unique local arrays, never a class property (each access of which
        // would be checked for exclusivity at run time).
        var match = take(&self.match), cost = take(&self.cost), included = take(&self.included), queued = take(&self.queued)
        var priorities = take(&self.priorities), order = take(&self.order), fresh = take(&self.fresh)
        var heldIDs = take(&self.heldIDs), staleIDs = take(&self.staleIDs), heldFromBaseline = take(&self.heldFromBaseline)
        var freshIDs = take(&self.freshIDs), writer = take(&self.writer)
        defer {
            self.match = match; self.cost = cost; self.included = included; self.queued = queued
            self.priorities = priorities; self.order = order; self.fresh = fresh
            self.heldIDs = heldIDs; self.staleIDs = staleIDs; self.heldFromBaseline = heldFromBaseline
            self.freshIDs = freshIDs; self.writer = writer
        }
        reset(&match, to: -1, count: count)
        reset(&cost, to: 0, count: count)
        reset(&included, to: true, count: count)
        reset(&queued, to: false, count: count)
        fresh.removeAll(keepingCapacity: true)
        heldIDs.removeAll(keepingCapacity: true)
        staleIDs.removeAll(keepingCapacity: true)
        heldFromBaseline.removeAll(keepingCapacity: true)

        // Both lists are sorted by id (and so is the stale list): pair them with cursors.
        var cursor = 0
        var staleCursor = 0
        let headerBits = 8 + 32 + 8 + 32 + 16 + 16
        var total = headerBits + base.count
        for index in 0..<count {
            let entity = entities[index]
            while cursor < base.count && base[cursor].id < entity.id { cursor += 1 }
            while staleCursor < staleInBaseline.count && staleInBaseline[staleCursor] < entity.id { staleCursor += 1 }
            let isStale = staleCursor < staleInBaseline.count && staleInBaseline[staleCursor] == entity.id
            let inBaseline = cursor < base.count && base[cursor].id == entity.id
            if inBaseline && base[cursor].wireKind == entity.wireKind && !isStale {
                match[index] = cursor
                if base[cursor] != entity { cost[index] = entity.deltaBits(from: base[cursor]) + 2 }
            } else {
                cost[index] = SnapshotCodec.fullEntryBits(Entity.self) + (inBaseline ? 2 : 0)
            }
            total += cost[index]
        }
        if let budgetBytes, total > budgetBytes * 8 {
            // Over budget: the most important first, the rest deferred.
            reset(&included, to: false, count: count)
            reset(&priorities, to: 0, count: count)
            order.removeAll(keepingCapacity: true)
            for index in 0..<count where cost[index] > 0 {
                priorities[index] = priority(entities[index])
                order.append(index)
            }
            order.sort { priorities[$0] < priorities[$1] }
            var bits = headerBits + base.count
            for index in order where bits + cost[index] <= budgetBytes * 8 {
                bits += cost[index]
                included[index] = true
            }
        }

        writer.reset()
        writer.write(UInt64(SnapshotCodec.kind), bits: 8)
        writer.write(UInt64(header.tick), bits: 32)
        writer.write(UInt64(usable ? header.tick &- header.baselineTick : 0), bits: 8)
        writer.write(UInt64(header.lastAppliedInput), bits: 32)
        writer.write(UInt64(header.yourEntity), bits: 16)
        // Every baseline entity in order: 0 = keep (unchanged, or deferred); 10 = changed (a
        // delta follows); 11 = gone (or resent in full below).
        cursor = 0
        for baseIndex in 0..<base.count {
            let previous = base[baseIndex]
            while cursor < count && entities[cursor].id < previous.id { cursor += 1 }
            guard cursor < count, entities[cursor].id == previous.id, entities[cursor].wireKind == previous.wireKind else {
                writer.write(true)
                writer.write(true)
                continue
            }
            let index = cursor
            let entity = entities[index]
            if cost[index] > 0 && included[index] {
                writer.write(true)
                if match[index] == baseIndex {
                    writer.write(false)
                    entity.writeDelta(from: previous, into: &writer)
                    heldFromBaseline.append(entity.id)
                } else {
                    // Resent in full below (it goes into `held` from there).
                    writer.write(true)
                    fresh.append(index)
                    queued[index] = true
                }
            } else {
                writer.write(false)
                if cost[index] > 0 { staleIDs.append(entity.id) }
                heldFromBaseline.append(entity.id)
            }
        }
        for index in 0..<count where cost[index] > 0 && included[index] && match[index] == -1 && !queued[index] {
            fresh.append(index)
        }
        fresh.sort { entities[$0].id < entities[$1].id }
        writer.write(UInt64(fresh.count), bits: 16)
        freshIDs.removeAll(keepingCapacity: true)
        for index in fresh {
            let entity = entities[index]
            freshIDs.append(entity.id)
            writer.write(UInt64(entity.id), bits: 16)
            writer.write(UInt64(entity.wireKind & 3), bits: 2)
            entity.writeFull(into: &writer)
        }
        Self.merge(heldFromBaseline, freshIDs, into: &heldIDs)
        // The writer's own storage, shared: once the caller has sent the snapshot and let go of
        // it, the next encode writes into the same buffer (no allocation per snapshot). A caller
        // that keeps the bytes just makes the next encode take a new buffer.
        return writer.finish()
    }

    /// `held` = the kept baseline entities and the fresh ones, both sorted, merged.
    @inlinable static func merge(_ heldFromBaseline: [EntityID], _ freshIDs: [EntityID], into heldIDs: inout [EntityID]) {
        var a = 0
        var b = 0
        while a < heldFromBaseline.count || b < freshIDs.count {
            let fromBaseline = b == freshIDs.count || (a < heldFromBaseline.count && heldFromBaseline[a] < freshIDs[b])
            if fromBaseline {
                heldIDs.append(heldFromBaseline[a])
                a += 1
            } else {
                heldIDs.append(freshIDs[b])
                b += 1
            }
        }
    }


    @inlinable func reset<T>(_ buffer: inout [T], to value: T, count: Int) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: repeatElement(value, count: count))
    }

    /// Moves a scratch buffer out, leaving an empty one (no allocation) until it is put back.
    @inlinable func take<T>(_ buffer: inout [T]) -> [T] {
        var taken: [T] = []
        swap(&taken, &buffer)
        return taken
    }

    @inlinable func take(_ writer: inout BitWriter) -> BitWriter {
        var taken = BitWriter(capacity: 0)
        swap(&taken, &writer)
        return taken
    }
}
