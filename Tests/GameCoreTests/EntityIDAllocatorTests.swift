import MatchContract
import GameCore
import Testing

@Suite struct EntityIDAllocatorTests {
    /// Past 65,535 spawns ids are reused, but never a live one and never one freed less than the
    /// quarantine ago.
    @Test func idsNeverCollideAfterTheyWrap() {
        var allocator = EntityIDAllocator(quarantineTicks: 100)
        var live: Set<EntityID> = []
        var freedAt: [EntityID: UInt32] = [:]
        var tick: UInt32 = 0
        // 200,000 short-lived projectiles beside 10 long-lived players.
        for _ in 0..<10 { if let id = allocator.allocate(tick: 0, urgent: true) { live.insert(id) } }
        let players = live
        var flying: [(EntityID, UInt32)] = []
        for spawn in 0..<200_000 {
            if spawn % 3 == 0 { tick += 1 }
            while let first = flying.first, tick - first.1 >= 60 {
                flying.removeFirst()
                live.remove(first.0)
                allocator.release(first.0, tick: tick)
                freedAt[first.0] = tick
            }
            guard let id = allocator.allocate(tick: tick) else { continue }
            #expect(!live.contains(id), "id \(id) is live")
            if let freed = freedAt[id] { #expect(tick - freed >= 100, "id \(id) reused after \(tick - freed) ticks") }
            #expect(id != 0)
            live.insert(id)
            flying.append((id, tick))
        }
        #expect(players.isSubset(of: live))
    }

    @Test func urgentTakesARestingIDButNeverALiveOne() {
        var allocator = EntityIDAllocator(quarantineTicks: 1000)
        var ids: [EntityID] = []
        while let id = allocator.allocate(tick: 0) { ids.append(id) }
        #expect(ids.count == Int(EntityID.max))
        #expect(allocator.allocate(tick: 5, urgent: true) == nil, "every id is live")
        allocator.release(ids[7], tick: 5)
        #expect(allocator.allocate(tick: 6) == nil, "still resting")
        #expect(allocator.allocate(tick: 6, urgent: true) == ids[7])
    }
}

/// The client SDK on a server whose tick is near 2^32 (a match that ran for years, or a hostile
/// server): building an input message never traps.
@Suite struct ClientTickRangeTests {
    @Test func aServerTickNearTheTopOfTheRangeDoesNotTrap() {
        let settings = MatchSettings(maxPlayers: 2, tickRate: 60, scoreLimit: 10, timeLimitSeconds: 600)
        let client = ClientSimulation(rules: ArenaRules(), settings: settings)
        let snapshot = SnapshotEncoder<ArenaEntity>().encode(
            header: .init(tick: UInt32.max - 2, baselineTick: 0, lastAppliedInput: 0, yourEntity: 0), entities: [], baseline: nil,
            staleInBaseline: [], budgetBytes: nil, priority: { _ in 0 })
        #expect(client.receiveSnapshot(snapshot, now: 0))
        // Hours later the client's render tick is far past 2^32.
        for now in [0.0, 10, 3600, 1e7] {
            let message = client.makeInputMessage(ArenaRules.Input(), now: now)
            #expect(!message.isEmpty)
        }
    }
}
