@testable import ControlPlane
import Foundation
import MatchContract
import GameCore
import GRDB
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// Waits (a bounded number of yields and short sleeps) until `condition` holds.
func eventually(_ what: String, _ condition: () async -> Bool) async throws {
    for _ in 0..<2000 {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(2))
    }
    Issue.record("timed out waiting until \(what)")
}

/// A count tasks can share.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func add(_ amount: Int) { count.add(amount, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

@Suite struct AbuseLimitTests {
    // MARK: The token bucket

    /// The bucket on a clock the test moves: a burst, then one back per 1/rate seconds, never
    /// more than the burst however long it rests; the wait it names is the time to the next one.
    @Test func aBucketRefillsAtItsRateUpToItsBurst() {
        let clock = Mutex(1000.0)
        let limiter = RateLimiter(rule: .init(rate: 0.5, burst: 3)) { clock.withLock { $0 } }
        for _ in 0..<3 { #expect(limiter.take("k") == nil) }
        #expect(limiter.take("k") == 2)
        #expect(limiter.take("other") == nil)
        clock.withLock { $0 += 1 }
        #expect(limiter.take("k") == 1)
        clock.withLock { $0 += 1 }
        #expect(limiter.take("k") == nil)
        #expect(limiter.retryAfter("k") == 2)
        clock.withLock { $0 += 3600 }
        for _ in 0..<3 { #expect(limiter.take("k") == nil) }
        #expect(limiter.take("k") != nil)
        limiter.refund("k")
        #expect(limiter.take("k") == nil)
        limiter.reset("k")
        for _ in 0..<3 { #expect(limiter.take("k") == nil) }
    }

    // MARK: Logins

    @Test func parallelWrongPasswordsRunNoMoreVerificationsThanTheBurst() async throws {
        let plane = try await TestControlPlane()
        let hasher = plane.services.accounts.hasher
        try await plane.application.test(.router) { client in
            _ = try await client.register("victim", from: "10.0.0.1")
            let before = hasher.verifications
            struct Outcome: Sendable {
                let status: HTTPResponse.Status
                let retryAfter: String?
                let errorCode: String?
            }
            let replies = try await withThrowingTaskGroup(of: Outcome.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let reply = try await client.call(.post, "/v1/sessions", json: ["username": "victim", "password": "guess \(index)"], from: "6.6.6.6")
                        return Outcome(status: reply.status, retryAfter: reply.headers[.retryAfter], errorCode: reply.errorCode)
                    }
                }
                return try await group.reduce(into: [Outcome]()) { $0.append($1) }
            }
            let verified = hasher.verifications - before
            let failures = replies.filter { $0.status == .unauthorized }
            let limited = replies.filter { $0.status == .tooManyRequests }
            // The (account, address) burst is 5: five guesses are checked, 45 are turned away unhashed.
            #expect(verified == 5)
            #expect(failures.count == 5)
            #expect(limited.count == 45)
            #expect(limited.allSatisfy { (Int($0.retryAfter ?? "") ?? 0) >= 1 && $0.errorCode == "rate_limited" })

            // The attacker's address is held up even with the right password...
            let fromAttacker = try await client.call(.post, "/v1/sessions", json: ["username": "victim", "password": "correct horse battery"], from: "6.6.6.6")
            #expect(fromAttacker.status == .tooManyRequests)
            // ...while the owner, from another address, gets in.
            let owner = try await client.call(.post, "/v1/sessions", json: ["username": "victim", "password": "correct horse battery"], from: "10.0.0.2")
            #expect(owner.status == .ok)
            #expect(owner.string("token") != nil)
        }
    }

    @Test func theAccountWideBudgetSparesAddressesTheOwnerUsedBefore() async throws {
        var limits = TestControlPlane.testLimits
        limits.failedLoginsPerAccount = .init(rate: 1.0 / 3600, burst: 3)
        let plane = try await TestControlPlane(limits: limits)
        try await plane.application.test(.router) { client in
            _ = try await client.register("owner", from: "10.0.0.1")
            // A distributed guesser: one guess from each of three addresses spends the account's budget.
            for attacker in ["6.6.6.1", "6.6.6.2", "6.6.6.3"] {
                let reply = try await client.call(.post, "/v1/sessions", json: ["username": "owner", "password": "wrong guess"], from: attacker)
                #expect(reply.status == .unauthorized)
            }
            let fourth = try await client.call(.post, "/v1/sessions", json: ["username": "owner", "password": "wrong guess"], from: "6.6.6.4")
            #expect(fourth.status == .tooManyRequests)
            #expect(fourth.headers[.retryAfter] != nil)
            // The owner's own address is exempt; a new one waits like everyone else.
            let known = try await client.call(.post, "/v1/sessions", json: ["username": "owner", "password": "correct horse battery"], from: "10.0.0.1")
            #expect(known.status == .ok)
            let unknown = try await client.call(.post, "/v1/sessions", json: ["username": "owner", "password": "correct horse battery"], from: "10.0.0.7")
            #expect(unknown.status == .tooManyRequests)
        }
    }

    @Test func forwardedForIsIgnoredUnlessThePeerIsATrustedProxy() async throws {
        var limits = TestControlPlane.testLimits
        limits.trustedProxies = []
        let plane = try await TestControlPlane(limits: limits)
        try await plane.application.test(.router) { client in
            _ = try await client.register("target")
            for index in 0..<5 {
                let reply = try await client.call(.post, "/v1/sessions", json: ["username": "target", "password": "wrong guess"], from: "6.6.6.\(index)")
                #expect(reply.status == .unauthorized)
            }
            // Every "address" was the same untrusted peer: the pair budget is spent.
            let next = try await client.call(.post, "/v1/sessions", json: ["username": "target", "password": "wrong guess"], from: "6.6.6.99")
            #expect(next.status == .tooManyRequests)
        }
    }

    // MARK: The hashing queue

    @Test func theHashQueueIsBoundedAndCancelledWaitersLeaveWithoutRunning() async throws {
        let gate = ConcurrencyGate(limit: 1, maxWaiters: 2)
        let release = Signal()
        let ran = Counter()
        let holder = Task { try await gate.run { await release.wait() } }
        try await eventually("the holder runs") { gate.load.running == 1 }
        let first = Task { try await gate.run { ran.add(1) } }
        try await eventually("one waiter") { gate.load.waiting == 1 }
        let second = Task { try await gate.run { ran.add(10) } }
        try await eventually("two waiters") { gate.load.waiting == 2 }

        // The line is full: the next caller is refused at once.
        await #expect(throws: PasswordHashingError.busy) { try await gate.run { ran.add(100) } }

        // A waiter whose caller went away leaves the line and never runs.
        first.cancel()
        await #expect(throws: CancellationError.self) { try await first.value }
        #expect(gate.load.waiting == 1)

        await release.fire()
        try await holder.value
        try await second.value
        let afterRelease = ran.value
        #expect(afterRelease == 10)
        // No slot leaked: the gate is idle and admits `limit` at once again.
        #expect(gate.load.running == 0 && gate.load.waiting == 0)
        try await gate.run { ran.add(1000) }
        let afterOneMore = ran.value
        #expect(afterOneMore == 1010)
        #expect(gate.load.running == 0 && gate.load.waiting == 0)
    }

    @Test func aTaskCancelledBeforeItAsksNeverTakesASlot() async throws {
        let gate = ConcurrencyGate(limit: 1, maxWaiters: 4)
        let ran = Counter()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await gate.run { ran.add(1) }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ran.value == 0)
        #expect(gate.load.running == 0 && gate.load.waiting == 0)
    }

    @Test func aFullHashQueueAnswers503WithRetryAfter() async throws {
        var limits = TestControlPlane.testLimits
        limits.maxHashWaiters = 0
        let plane = try await TestControlPlane(limits: limits, maxConcurrentHashes: 1)
        let gate = plane.services.accounts.hasher.gate
        try await plane.application.test(.router) { client in
            _ = try await client.register("patient")
            let release = Signal()
            let holder = Task { try await gate.run { await release.wait() } }
            try await eventually("the slot is taken") { gate.load.running == 1 }
            let login = try await client.call(.post, "/v1/sessions", json: ["username": "patient", "password": "correct horse battery"])
            #expect(login.status == .serviceUnavailable)
            #expect(login.errorCode == "busy")
            #expect(Int(login.headers[.retryAfter] ?? "") ?? 0 >= 1)
            let registration = try await client.call(.post, "/v1/accounts", json: ["username": "newcomer", "email": "n@example.com", "password": "12345678"])
            #expect(registration.status == .serviceUnavailable)
            #expect(registration.errorCode == "busy")
            await release.fire()
            try await holder.value
            // A refused login charged nothing: the owner still has the whole budget.
            #expect(try await client.call(.post, "/v1/sessions", json: ["username": "patient", "password": "correct horse battery"]).status == .ok)
        }
    }

    // MARK: Registration

    @Test func registrationsAreRateLimitedPerAddress() async throws {
        var limits = ControlPortLimits()
        limits.trustedProxies = ["unknown"]
        let plane = try await TestControlPlane(limits: limits)
        let hasher = plane.services.accounts.hasher
        try await plane.application.test(.router) { client in
            for index in 0..<5 { _ = try await client.register("user\(index)", from: "1.1.1.1") }
            let hashes = hasher.hashes
            let sixth = try await client.call(.post, "/v1/accounts", json: ["username": "user5", "email": "u5@example.com", "password": "12345678"], from: "1.1.1.1")
            #expect(sixth.status == .tooManyRequests)
            #expect(sixth.errorCode == "rate_limited")
            #expect(Int(sixth.headers[.retryAfter] ?? "") ?? 0 >= 60)
            #expect(hasher.hashes == hashes, "a refused registration is not hashed")
            _ = try await client.register("user5", from: "2.2.2.2")
        }
    }

    @Test func aTakenEmailRegistersExactlyLikeAFreeOneAndClaimsNothing() async throws {
        let plane = try await TestControlPlane()
        let vault = plane.services.accounts.vault
        try await plane.application.test(.router) { client in
            let fresh = try await client.call(.post, "/v1/accounts", json: ["username": "alice", "email": "alice@example.com", "password": "alice's password"])
            #expect(fresh.status == .created)
            let duplicate = try await client.call(.post, "/v1/accounts", json: ["username": "mallory", "email": " Alice@Example.COM", "password": "mallory's password"])
            let other = try await client.call(.post, "/v1/accounts", json: ["username": "carol", "email": "carol@example.com", "password": "carol's password"])
            // Same status, same fields, same shape as two registrations with free addresses.
            #expect(duplicate.status == .created)
            #expect(duplicate.status == other.status)
            #expect(Set(duplicate.json.keys) == Set(other.json.keys))
            let duplicatePlayer = try #require(duplicate["player"] as? [String: Any])
            let otherPlayer = try #require(other["player"] as? [String: Any])
            #expect(Set(duplicatePlayer.keys) == Set(otherPlayer.keys))
            #expect(duplicatePlayer["email"] as? String == "alice@example.com")
            #expect(duplicate.headers[.contentType] == other.headers[.contentType])
            #expect(duplicate.errorCode == nil)

            // Both accounts work; the first keeps the address's claim, the second holds none.
            let malloryToken = try #require(duplicate.string("token"))
            #expect(try await client.call(.get, "/v1/me", token: malloryToken).string("email") == "alice@example.com")
            #expect(try await client.call(.post, "/v1/sessions", json: ["username": "alice", "password": "alice's password"]).status == .ok)
            let hashes = try await plane.database.writer.read { db in
                try Row.fetchAll(db, sql: "SELECT username, email_hash FROM players").reduce(into: [String: Data]()) { $0[$1["username"]] = $1["email_hash"] }
            }
            #expect(hashes["alice"] == vault.keyedHash("alice@example.com"))
            #expect(hashes["mallory"] != vault.keyedHash("alice@example.com"))
            #expect(hashes["mallory"]?.count == 32)

            // Usernames are public, so a taken one is still reported.
            let taken = try await client.call(.post, "/v1/accounts", json: ["username": "ALICE", "email": "new@example.com", "password": "12345678"])
            #expect(taken.status == .conflict)
            #expect(taken.errorCode == "username_taken")
        }
    }
}

@Suite struct OpenAPIAbuseDocumentationTests {
    @Test func theDocumentDescribesTheNewLimits() throws {
        let document = try OpenAPIDocument.document(catalog: GameCatalog([ArenaRules.catalogEntry]))
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        func responses(_ path: String, _ method: String) -> Set<String> {
            Set((paths[path]?[method]?["responses"] as? [String: Any])?.keys.map { $0 } ?? [])
        }
        func parameters(_ path: String, _ method: String) -> Set<String> {
            Set((paths[path]?[method]?["parameters"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? [])
        }
        #expect(responses("/v1/accounts", "post").isSuperset(of: ["201", "409", "429", "503"]))
        #expect(responses("/v1/sessions", "post").isSuperset(of: ["200", "401", "429", "503"]))
        #expect(responses("/v1/games", "post").contains("409"))
        for path in ["/v1/invites", "/v1/friends"] {
            #expect(parameters(path, "get") == ["limit", "cursor"], "\(path)")
            #expect(responses(path, "get").contains("400"), "\(path)")
        }
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        for list in ["InviteList", "FriendList"] {
            #expect((schemas[list]?["properties"] as? [String: Any])?["next_cursor"] != nil, "\(list)")
        }
    }
}
