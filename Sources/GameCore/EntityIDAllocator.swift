/// Hands out entity ids for a match: never one that is live, and a freed one only after it has
/// rested `quarantineTicks` (longer than any snapshot baseline a client can still acknowledge),
/// so that no client ever sees one entity turn into another under the same id. Fresh ids come
/// first; once all 65,535 have been used, rested ones are reused oldest first. Deterministic:
/// part of the game state.
public struct EntityIDAllocator: Sendable, Equatable {
    public let quarantineTicks: UInt32
    private var nextFresh: UInt32 = 1
    private var freed: [EntityID] = []
    private var freedAt: [UInt32] = []
    /// Index of the oldest freed id not yet reused (the arrays are compacted as it advances).
    private var head = 0

    public init(quarantineTicks: UInt32 = 256) {
        self.quarantineTicks = quarantineTicks
    }

    /// Ids in quarantine or waiting for reuse.
    public var freedCount: Int { freed.count - head }

    /// A new id, or nil when every id is live or still resting. `urgent` takes a freed id even
    /// before its quarantine ends (never a live one): for a player, who must get an entity.
    public mutating func allocate(tick: UInt32, urgent: Bool = false) -> EntityID? {
        if nextFresh <= UInt32(EntityID.max) {
            defer { nextFresh += 1 }
            return EntityID(nextFresh)
        }
        guard head < freed.count, urgent || tick &- freedAt[head] >= quarantineTicks else { return nil }
        let id = freed[head]
        head += 1
        if head >= 1024 && head * 2 >= freed.count {
            freed.removeFirst(head)
            freedAt.removeFirst(head)
            head = 0
        }
        return id
    }

    /// `id` is no longer live (from `tick` on).
    public mutating func release(_ id: EntityID, tick: UInt32) {
        guard id != 0 else { return }
        freed.append(id)
        freedAt.append(tick)
    }
}
