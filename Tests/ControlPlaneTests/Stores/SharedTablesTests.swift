@testable import ControlPlane
import Foundation
import GameRuntime
import MatchContract
import NetProtocol
import PostgresNIO
import Testing

/// ControlPlane's pool, not PostgresNIO's protocol of the same name (both modules are imported
/// here; a declaration of this module comes before either).
typealias PostgresDatabase = ControlPlane.PostgresDatabase

/// Several control-port instances on one PostgreSQL database, each with a pool of its own (as
/// separate processes would have), for the shared tables' tests.
struct SharedDatabase: Sendable {
    let name: String

    /// A fresh, migrated database, and `count` pools on it, running while `body` runs.
    static func with<T: Sendable>(pools count: Int, _ body: @Sendable ([PostgresDatabase]) async throws -> T) async throws -> T {
        let cluster = try await PostgresTestCluster.shared()
        let first = try await cluster.freshDatabase()
        try await first.migrate()
        var pools = [first]
        for _ in 1..<max(1, count) {
            pools.append(try PostgresDatabase(location: first.location, maximumConnections: 4, logger: PostgresTestCluster.logger))
        }
        let running = pools
        return try await withThrowingTaskGroup(of: T?.self) { group in
            for pool in running { group.addTask { try await pool.run(); return nil } }
            do {
                let result = try await body(running)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }
}

extension PostgresDatabase {
    /// Moves an instance's heartbeat back by `seconds` (time injected: it died that long ago).
    func ageInstance(_ id: UUID, bySeconds seconds: Double) async throws {
        _ = try await rows("UPDATE control_instances SET heartbeat_at = heartbeat_at - make_interval(secs => \(seconds)) WHERE id = \(id)")
    }

    /// Moves a limiter's buckets' last update back by `seconds` (time injected: they have been
    /// refilling that long).
    func ageBuckets(of limiter: String, bySeconds seconds: Double) async throws {
        _ = try await rows("UPDATE rate_buckets SET updated_at = updated_at - make_interval(secs => \(seconds)) WHERE limiter = \(limiter)")
    }

    func count(_ table: String) async throws -> Int {
        try await rows(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)")).first?.decode(Int.self) ?? -1
    }
}

@Suite(.enabled(if: PostgresTestCluster.isAvailable, "PostgreSQL is not installed"))
struct PostgresRateLimiterTests {
    /// A slow refill: over a test's run, a bucket refills by nothing measurable.
    static let slow = RateLimiter.Rule(rate: 1.0 / 3600, burst: 3)

    @Test func twoInstancesSpendOneBudget() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            let a = PostgresRateLimiter(name: "logins", rule: Self.slow, database: pools[0])
            let b = PostgresRateLimiter(name: "logins", rule: Self.slow, database: pools[1])
            #expect(await a.take("alice") == nil)
            #expect(await b.take("alice") == nil)
            #expect(await a.take("alice") == nil)
            let refused = try #require(await b.take("alice"))
            #expect(refused > 3000 && refused <= 3600)
            #expect(await a.take("alice") != nil)
            #expect(await a.retryAfter("alice") != nil)
            // Another key, and another limiter on the same key, have budgets of their own.
            #expect(await b.take("bob") == nil)
            #expect(await PostgresRateLimiter(name: "chat", rule: Self.slow, database: pools[1]).take("alice") == nil)
        }
    }

    @Test func concurrentTakesNeverOverspend() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            let limiters = pools.map { PostgresRateLimiter(name: "logins", rule: .init(rate: 1.0 / 3600, burst: 10), database: $0) }
            let allowed = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<40 { group.addTask { await limiters[index % 2].take("carol") == nil } }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(allowed == 10)
        }
    }

    @Test func refundAndReset() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            let a = PostgresRateLimiter(name: "logins", rule: Self.slow, database: pools[0])
            let b = PostgresRateLimiter(name: "logins", rule: Self.slow, database: pools[1])
            #expect(await a.retryAfter("dave") == nil)
            // A refund for a key never taken makes no bucket.
            await a.refund("dave")
            #expect(try await pools[0].count("rate_buckets") == 0)
            for _ in 0..<3 { #expect(await a.take("dave") == nil) }
            #expect(await b.take("dave") != nil)
            await b.refund("dave")
            #expect(await a.retryAfter("dave") == nil)
            #expect(await a.take("dave") == nil)
            #expect(await a.take("dave") != nil)
            // Refunds never exceed the burst.
            for _ in 0..<5 { await b.refund("dave") }
            for _ in 0..<3 { #expect(await a.take("dave") == nil) }
            #expect(await a.take("dave") != nil)
            await b.reset("dave")
            for _ in 0..<3 { #expect(await a.take("dave") == nil) }
        }
    }

    @Test func refillsByElapsedTimeOnTheDatabaseClock() async throws {
        try await SharedDatabase.with(pools: 1) { pools async throws in
            // One token an hour: the test's own running time (even minutes on a loaded machine)
            // refills next to nothing; the hours come from moving the buckets' clock back.
            let limiter = PostgresRateLimiter(name: "chat", rule: Self.slow, database: pools[0])
            for _ in 0..<3 { #expect(await limiter.take("erin") == nil) }
            let wait = try #require(await limiter.take("erin"))
            #expect(wait > 3000 && wait <= 3600)
            // An hour later: one token back, and only one.
            try await pools[0].ageBuckets(of: "chat", bySeconds: 3600)
            #expect(await limiter.take("erin") == nil)
            #expect(await limiter.take("erin") != nil)
            // Ten hours later: never more than the burst.
            try await pools[0].ageBuckets(of: "chat", bySeconds: 36_000)
            for _ in 0..<3 { #expect(await limiter.take("erin") == nil) }
            #expect(await limiter.take("erin") != nil)
        }
    }

    @Test func sweepDeletesRefilledBucketsAndBoundsTheTable() async throws {
        try await SharedDatabase.with(pools: 1) { pools async throws in
            let database = pools[0]
            let refilling = PostgresRateLimiter(name: "registrations", rule: .init(rate: 1.0 / 3600, burst: 1), database: database)
            let other = PostgresRateLimiter(name: "logins", rule: Self.slow, database: database)
            for key in ["a", "b", "c"] { _ = await refilling.take(key) }
            _ = await other.take("a")
            #expect(try await refilling.sweep() == 0)
            try await database.ageBuckets(of: "registrations", bySeconds: 3601)
            _ = await refilling.take("d")
            // a, b, c have refilled (their rows say nothing); d has not, nor the other limiter's.
            #expect(try await refilling.sweep() == 3)
            #expect(try await database.count("rate_buckets") == 2)
            let capped = PostgresRateLimiter(name: "logins", rule: Self.slow, database: database, maxKeys: 2)
            for key in ["k1", "k2", "k3", "k4"] { _ = await capped.take(key) }
            #expect(try await capped.sweep() == 3)
            // The two most recently used stay.
            #expect(await capped.take("k3") == nil)
            #expect(await capped.take("k4") == nil)
            #expect(try await database.count("rate_buckets") == 3)
        }
    }

    @Test func knownLoginAddressesAreSharedAndBounded() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            let a = PostgresLoginAddresses(database: pools[0], perAccount: 2)
            let b = PostgresLoginAddresses(database: pools[1], perAccount: 2)
            await a.insert("frank", "10.0.0.1")
            #expect(await b.contains("frank", "10.0.0.1"))
            #expect(await !b.contains("frank", "10.0.0.2"))
            #expect(await !b.contains("grace", "10.0.0.1"))
            await b.insert("frank", "10.0.0.2")
            await a.insert("frank", "10.0.0.1")
            await b.insert("frank", "10.0.0.3")
            // The newest two: .1 was seen again after .2.
            #expect(await a.contains("frank", "10.0.0.1"))
            #expect(await !a.contains("frank", "10.0.0.2"))
            #expect(await a.contains("frank", "10.0.0.3"))
            #expect(try await pools[0].count("login_addresses") == 2)
        }
    }
}

@Suite(.enabled(if: PostgresTestCluster.isAvailable, "PostgreSQL is not installed"))
struct PostgresPresenceTests {
    /// A generous bound, so that a live instance never lapses on a loaded machine; death is
    /// injected by moving a heartbeat back past it.
    static let staleAfter = 600.0

    @Test func presenceCountsEveryInstance() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            let instanceA = ControlInstance(database: pools[0], staleAfter: Self.staleAfter)
            let instanceB = ControlInstance(database: pools[1], staleAfter: Self.staleAfter)
            #expect(try await instanceA.heartbeat())
            #expect(try await instanceB.heartbeat())
            #expect(try await !instanceA.heartbeat())
            let a = PostgresPresence(instance: instanceA)
            let b = PostgresPresence(instance: instanceB)
            await a.connected(1)
            await b.connected(2)
            await b.connected(1)
            #expect(await a.online(among: [1, 2, 3]) == [1, 2])
            await a.disconnected(1)
            #expect(await a.online(among: [1, 2, 3]) == [1, 2])
            await b.disconnected(1)
            #expect(await b.online(among: [1, 2, 3]) == [2])
            // In a match through A; the match's end, recorded through B, clears it everywhere.
            await a.setInMatch(3, true)
            #expect(await b.online(among: [3]) == [3])
            await b.setInMatch(3, false)
            #expect(await a.online(among: [3]) == [])
            #expect(await a.online(among: []) == [])
            await a.deleteIdleRows()
            await b.deleteIdleRows()
            #expect(try await pools[0].count("presence") == 1)
        }
    }

    @Test func aDeadInstanceStopsCounting() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            let instanceA = ControlInstance(database: pools[0], staleAfter: Self.staleAfter)
            let instanceB = ControlInstance(database: pools[1], staleAfter: Self.staleAfter)
            try await instanceA.heartbeat()
            try await instanceB.heartbeat()
            let a = PostgresPresence(instance: instanceA)
            let b = PostgresPresence(instance: instanceB)
            await a.connected(5)
            await a.setInMatch(6, true)
            #expect(await b.online(among: [5, 6]) == [5, 6])
            // A's last heartbeat was longer ago than the bound: its rows no longer count, then are deleted.
            try await pools[0].ageInstance(instanceA.id, bySeconds: Self.staleAfter + 1)
            #expect(await b.online(among: [5, 6]) == [])
            #expect(try await instanceB.deleteStale() == 1)
            #expect(try await pools[1].count("presence") == 0)
            // A comes back (it had only stalled): it registers again and writes its sockets again.
            #expect(try await instanceA.heartbeat())
            await a.republish()
            #expect(await b.online(among: [5, 6]) == [5])
        }
    }

    @Test func maintenanceHeartbeatRepublishesAfterBeingDeemedDead() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            let tables = PostgresSharedTables(instance: ControlInstance(database: pools[0], staleAfter: Self.staleAfter), limits: ControlPortLimits())
            let other = ControlInstance(database: pools[1], staleAfter: Self.staleAfter)
            try await other.heartbeat()
            await tables.maintenance.heartbeat()
            await tables.presence.connected(7)
            #expect(await PostgresPresence(instance: other).online(among: [7]) == [7])
            try await pools[0].ageInstance(tables.instance.id, bySeconds: Self.staleAfter + 1)
            try await other.deleteStale()
            #expect(await PostgresPresence(instance: other).online(among: [7]) == [])
            await tables.maintenance.heartbeat()
            #expect(await PostgresPresence(instance: other).online(among: [7]) == [7])
        }
    }
}
