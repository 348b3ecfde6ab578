@testable import ControlPlane
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Testing

/// Refresh tokens (rotation, reuse, expiry), device accounts and their upgrade, and the session
/// cache in front of the store.
@Suite struct SessionResumeTests {
    static func resume(_ client: some TestClientProtocol, _ refreshToken: String) async throws -> Reply {
        try await client.call(.post, "/v1/sessions/refresh", json: ["refresh_token": refreshToken])
    }

    @Test func loginAndRegistrationGiveRefreshTokensThatRotate() async throws {
        let clock = SteppedClock()
        let plane = try await TestControlPlane(now: clock.function)
        try await plane.application.test(.router) { client in
            let registered = try await client.call(
                .post, "/v1/accounts", json: ["username": "alice", "email": "alice@example.com", "password": "hunter2hunter2"])
            #expect(registered.status == .created)
            #expect(registered.string("refresh_token")?.count == 43)
            #expect(registered.string("refresh_expires_at") != nil)
            let login = try await client.call(.post, "/v1/sessions", json: ["username": "alice", "password": "hunter2hunter2"])
            let access = try #require(login.string("token"))
            let refresh = try #require(login.string("refresh_token"))
            #expect(refresh != registered.string("refresh_token"))

            let resumed = try await Self.resume(client, refresh)
            #expect(resumed.status == .ok, "\(resumed.json)")
            let newAccess = try #require(resumed.string("token"))
            let newRefresh = try #require(resumed.string("refresh_token"))
            #expect(newRefresh != refresh && newAccess != access)
            #expect((resumed["player"] as? [String: Any])?["username"] as? String == "alice")
            // The family's earlier session ended; the new one works; the registration's family is untouched.
            #expect(try await client.call(.get, "/v1/me", token: access).status == .unauthorized)
            #expect(try await client.call(.get, "/v1/me", token: newAccess).status == .ok)
            #expect(try await client.call(.get, "/v1/me", token: registered.string("token")).status == .ok)
            // And again, a day later, with the newest token.
            clock.advance(24 * 3600)
            let again = try await Self.resume(client, newRefresh)
            #expect(again.status == .ok)
            #expect(try await client.call(.get, "/v1/me", token: again.string("token")).status == .ok)
        }
    }

    @Test func reusingARotatedRefreshTokenRevokesTheWholeFamily() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            _ = try await client.register("alice")
            let login = try await client.call(.post, "/v1/sessions", json: ["username": "alice", "password": "correct horse battery"])
            let stolen = try #require(login.string("refresh_token"))
            let rotated = try await Self.resume(client, stolen)
            let liveAccess = try #require(rotated.string("token"))
            let liveRefresh = try #require(rotated.string("refresh_token"))
            // The access token is in the cache now.
            #expect(try await client.call(.get, "/v1/me", token: liveAccess).status == .ok)

            let reuse = try await Self.resume(client, stolen)
            #expect(reuse.status == .unauthorized)
            #expect(reuse.errorCode == "refresh_token_reused")
            // The token the rotation gave and the access token stop working at once.
            #expect(try await client.call(.get, "/v1/me", token: liveAccess).status == .unauthorized)
            let afterwards = try await Self.resume(client, liveRefresh)
            #expect(afterwards.status == .unauthorized)
            #expect(afterwards.errorCode == "invalid_refresh_token")
            // The password still logs in.
            #expect(try await client.call(.post, "/v1/sessions", json: ["username": "alice", "password": "correct horse battery"]).status == .ok)
        }
    }

    @Test func expiredAndUnknownRefreshTokensAreRefused() async throws {
        let clock = SteppedClock()
        let plane = try await TestControlPlane(now: clock.function)
        try await plane.application.test(.router) { client in
            let registered = try await client.call(
                .post, "/v1/accounts", json: ["username": "alice", "email": "alice@example.com", "password": "hunter2hunter2"])
            let refresh = try #require(registered.string("refresh_token"))
            clock.advance(30 * 24 * 3600 + 1)
            let expired = try await Self.resume(client, refresh)
            #expect(expired.status == .unauthorized)
            #expect(expired.errorCode == "refresh_token_expired")
            for token in ["", "nonsense", String(repeating: "x", count: 500)] {
                let refused = try await Self.resume(client, token)
                #expect(refused.status == .unauthorized)
                #expect(refused.errorCode == "invalid_refresh_token")
            }
            #expect(try await client.call(.post, "/v1/sessions/refresh", json: ["refresh_token": 5]).status == .badRequest)
            #expect(try await client.call(.post, "/v1/sessions/refresh", json: [:]).status == .badRequest)
            // The access token expired long before (7 days).
            #expect(try await client.call(.get, "/v1/me", token: registered.string("token")).status == .unauthorized)
        }
    }

    @Test func refusedRefreshesAreRateLimitedPerAddress() async throws {
        var limits = TestControlPlane.testLimits
        limits.failedRefreshesPerAddress = .init(rate: 1.0 / 3600, burst: 3)
        let plane = try await TestControlPlane(limits: limits)
        try await plane.application.test(.router) { client in
            for _ in 0..<3 {
                #expect(try await client.call(.post, "/v1/sessions/refresh", json: ["refresh_token": "guess"], from: "10.0.0.1").status == .unauthorized)
            }
            let limited = try await client.call(.post, "/v1/sessions/refresh", json: ["refresh_token": "guess"], from: "10.0.0.1")
            #expect(limited.status == .tooManyRequests)
            #expect(try await client.call(.post, "/v1/sessions/refresh", json: ["refresh_token": "guess"], from: "10.0.0.2").status == .unauthorized)
            // Successes give back what they took.
            let registered = try await client.call(
                .post, "/v1/accounts", json: ["username": "alice", "email": "alice@example.com", "password": "hunter2hunter2"], from: "10.0.0.3")
            var refresh = try #require(registered.string("refresh_token"))
            for _ in 0..<5 {
                let resumed = try await client.call(.post, "/v1/sessions/refresh", json: ["refresh_token": refresh], from: "10.0.0.3")
                #expect(resumed.status == .ok)
                refresh = try #require(resumed.string("refresh_token"))
            }
        }
    }

    @Test func logoutRevokesTheFamilyOfItsSession() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            _ = try await client.register("alice")
            let login = try await client.call(.post, "/v1/sessions", json: ["username": "alice", "password": "correct horse battery"])
            let resumed = try await Self.resume(client, try #require(login.string("refresh_token")))
            let access = try #require(resumed.string("token"))
            #expect(try await client.call(.get, "/v1/me", token: access).status == .ok)
            #expect(try await client.call(.delete, "/v1/sessions/current", token: access).status == .noContent)
            #expect(try await client.call(.get, "/v1/me", token: access).status == .unauthorized)
            let refused = try await Self.resume(client, try #require(resumed.string("refresh_token")))
            #expect(refused.status == .unauthorized)
            #expect(refused.errorCode == "invalid_refresh_token")
        }
    }

    @Test func theAccessTokenExchangeStillWorks() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let alice = try await client.register("alice")
            let exchanged = try await client.call(.post, "/v1/sessions/refresh", token: alice.token)
            #expect(exchanged.status == .ok)
            #expect(exchanged.string("refresh_token") == nil)
            #expect(try await client.call(.get, "/v1/me", token: alice.token).status == .unauthorized)
            #expect(try await client.call(.get, "/v1/me", token: exchanged.string("token")).status == .ok)
            #expect(try await client.call(.post, "/v1/sessions/refresh", token: "nonsense").status == .unauthorized)
            #expect(try await client.call(.post, "/v1/sessions/refresh").status == .badRequest)
        }
    }

    // MARK: Device accounts

    @Test func aDeviceCreatesItsAccountOnceAndLogsInAfter() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let device = "4F1C9A7E-0B7D-4B3E-9E54-1D2A8C0F6B11"
            let created = try await client.call(.post, "/v1/accounts/device", json: ["device_id": device])
            #expect(created.status == .created, "\(created.json)")
            let player = try #require(created["player"] as? [String: Any])
            let username = try #require(player["username"] as? String)
            #expect(username.hasPrefix("player_") && username.count == 17)
            #expect((player["display_name"] as? String)?.hasPrefix("Player ") == true)
            #expect(player["has_password"] as? Bool == false)
            #expect(player["email"] == nil)
            #expect(created.string("refresh_token") != nil)

            let again = try await client.call(.post, "/v1/accounts/device", json: ["device_id": device])
            #expect(again.status == .ok)
            #expect((again["player"] as? [String: Any])?["id"] as? Int == player["id"] as? Int)
            #expect(again.string("token") != created.string("token"))
            // Device ids are exact: another case is another device.
            let other = try await client.call(.post, "/v1/accounts/device", json: ["device_id": device.lowercased()])
            #expect(other.status == .created)
            #expect((other["player"] as? [String: Any])?["id"] as? Int != player["id"] as? Int)

            // Only the id's keyed hash is stored.
            let stored = try await plane.database.writer.read { db in try Data.fetchAll(db, sql: "SELECT device_hash FROM players WHERE device_hash IS NOT NULL") }
            #expect(stored.count == 2 && !stored.contains(Data(device.utf8)))
            #expect(stored.allSatisfy { $0.count == 32 })

            for bad in ["short", String(repeating: "x", count: 129), "has a space in it here", "non-ascii-ééééééééééé"] {
                let refused = try await client.call(.post, "/v1/accounts/device", json: ["device_id": bad])
                #expect(refused.status == .unprocessableContent, "\(bad)")
                #expect(refused.errorCode == "invalid_device_id")
            }
        }
    }

    @Test func deviceLoginsAreRateLimitedPerAddress() async throws {
        var limits = TestControlPlane.testLimits
        limits.deviceLoginsPerAddress = .init(rate: 1.0 / 3600, burst: 3)
        let plane = try await TestControlPlane(limits: limits)
        try await plane.application.test(.router) { client in
            for index in 0..<3 {
                let reply = try await client.call(.post, "/v1/accounts/device", json: ["device_id": "device-number-000\(index)"], from: "10.0.0.1")
                #expect(reply.status == .created)
            }
            let limited = try await client.call(.post, "/v1/accounts/device", json: ["device_id": "device-number-0000"], from: "10.0.0.1")
            #expect(limited.status == .tooManyRequests)
            #expect(try await client.call(.post, "/v1/accounts/device", json: ["device_id": "device-number-0000"], from: "10.0.0.2").status == .ok)
        }
    }

    @Test func aPasswordlessAccountCannotLogInByPasswordUntilGivenOne() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let created = try await client.call(.post, "/v1/accounts/device", json: ["device_id": "device-id-of-my-phone"])
            let token = try #require(created.string("token"))
            let username = try #require((created["player"] as? [String: Any])?["username"] as? String)
            for password in ["", "anything at all", "correct horse battery"] {
                let login = try await client.call(.post, "/v1/sessions", json: ["username": username, "password": password])
                #expect(login.status == .unauthorized)
                #expect(login.errorCode == "invalid_credentials")
            }
            _ = try await client.register("taken")

            let taken = try await client.call(.post, "/v1/me/credentials", token: token, json: ["username": "TAKEN", "password": "correct horse battery"])
            #expect(taken.status == .conflict)
            #expect(taken.errorCode == "username_taken")
            let short = try await client.call(.post, "/v1/me/credentials", token: token, json: ["username": "phoney", "password": "short"])
            #expect(short.status == .unprocessableContent)
            let badEmail = try await client.call(
                .post, "/v1/me/credentials", token: token, json: ["username": "phoney", "password": "correct horse battery", "email": "nope"])
            #expect(badEmail.errorCode == "invalid_email")
            #expect(try await client.call(.post, "/v1/me/credentials", json: ["username": "phoney", "password": "x"]).status == .unauthorized)

            let upgraded = try await client.call(
                .post, "/v1/me/credentials", token: token, json: ["username": "Phoney", "password": "correct horse battery", "email": "Phone@Example.com"])
            #expect(upgraded.status == .ok, "\(upgraded.json)")
            #expect(upgraded.string("username") == "Phoney")
            #expect(upgraded["has_password"] as? Bool == true)
            #expect(upgraded.string("email") == "phone@example.com")
            // The session carries on under the new name (the cached identity was forgotten).
            let me = try await client.call(.get, "/v1/me", token: token)
            #expect(me.string("username") == "Phoney")
            #expect(try await client.call(.post, "/v1/sessions", json: ["username": "phoney", "password": "correct horse battery"]).status == .ok)
            #expect(try await client.call(.post, "/v1/sessions", json: ["username": username, "password": "correct horse battery"]).status == .unauthorized)
            // The device still logs in, to the same account.
            let device = try await client.call(.post, "/v1/accounts/device", json: ["device_id": "device-id-of-my-phone"])
            #expect(device.status == .ok)
            #expect((device["player"] as? [String: Any])?["username"] as? String == "Phoney")

            let twice = try await client.call(.post, "/v1/me/credentials", token: token, json: ["username": "other", "password": "correct horse battery"])
            #expect(twice.status == .conflict)
            #expect(twice.errorCode == "password_already_set")
            let alice = try await client.register("alice")
            let registered = try await client.call(
                .post, "/v1/me/credentials", token: alice.token, json: ["username": "alice2", "password": "correct horse battery"])
            #expect(registered.errorCode == "password_already_set")
        }
    }

    // MARK: The session cache

    @Test func authenticatedRequestsAreAnsweredFromTheCacheForABoundedTime() async throws {
        let clock = SteppedClock()
        let plane = try await TestControlPlane(now: clock.function)
        try await plane.application.test(.router) { client in
            let alice = try await client.register("alice")
            #expect(try await client.call(.get, "/v1/me", token: alice.token).status == .ok)
            // Revoked behind the cache's back (as a missed announcement would leave it): still
            // believed, but only until the entry's lifetime is over.
            try await plane.database.writer.write { db in try db.execute(sql: "UPDATE auth_sessions SET revoked_at = created_at") }
            #expect(try await client.call(.get, "/v1/me", token: alice.token).status == .ok)
            clock.advance(plane.services.accounts.sessions.lifetime - 1)
            #expect(try await client.call(.get, "/v1/me", token: alice.token).status == .ok)
            clock.advance(1)
            #expect(try await client.call(.get, "/v1/me", token: alice.token).status == .unauthorized)
        }
    }

    @Test func aCachedSessionNeverOutlivesItsExpiry() async throws {
        let clock = SteppedClock()
        let plane = try await TestControlPlane(now: clock.function)
        try await plane.application.test(.router) { client in
            let alice = try await client.register("alice")
            clock.advance(7 * 24 * 3600 - 10)
            #expect(try await client.call(.get, "/v1/me", token: alice.token).status == .ok)
            clock.advance(10)
            #expect(try await client.call(.get, "/v1/me", token: alice.token).status == .unauthorized)
        }
    }

    @Test func aProfileChangeIsSeenAtOnce() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let alice = try await client.register("alice")
            #expect(try await client.call(.get, "/v1/me", token: alice.token).string("display_name") == "alice")
            #expect(try await client.call(.patch, "/v1/me", token: alice.token, json: ["display_name": "Ally"]).string("display_name") == "Ally")
            #expect(try await client.call(.get, "/v1/me", token: alice.token).string("display_name") == "Ally")
        }
    }
}

/// ``SessionCache`` on its own: its bounds, and what forgetting does.
@Suite struct SessionCacheTests {
    static func identity(_ session: Int64, player: Int64 = 1, expires: Date = .distantFuture) -> Identity {
        Identity(playerID: player, username: "p\(player)", sessionID: session, sessionExpiresAt: expires)
    }

    static func token(_ session: Int64) -> Data { Data("token \(session)".utf8) }

    @Test func holdsAtMostItsCapacity() {
        let cache = SessionCache(capacity: 100, lifetime: 30)
        let now = Date()
        for session in Int64(0)..<1000 {
            cache.remember(Self.identity(session, player: session % 7), forTokenHash: Self.token(session), at: now, readAtEpoch: cache.epoch)
            #expect(cache.sessionCount <= 100)
        }
        // The most recent are kept; one kept in use survives however many come after it.
        #expect(cache.identity(forTokenHash: Self.token(999), at: now)?.sessionID == 999)
        #expect(cache.identity(forTokenHash: Self.token(0), at: now) == nil)
        for session in Int64(1000)..<2000 {
            cache.remember(Self.identity(session), forTokenHash: Self.token(session), at: now, readAtEpoch: cache.epoch)
            #expect(cache.identity(forTokenHash: Self.token(999), at: now)?.sessionID == 999)
        }
    }

    @Test func forgetsBySessionAndByPlayer() {
        let cache = SessionCache(capacity: 100, lifetime: 30)
        let now = Date()
        for session in Int64(1)...4 {
            cache.remember(Self.identity(session, player: session <= 2 ? 1 : 2), forTokenHash: Self.token(session), at: now, readAtEpoch: cache.epoch)
        }
        cache.forget(.sessions([1]))
        #expect(cache.identity(forTokenHash: Self.token(1), at: now) == nil)
        #expect(cache.identity(forTokenHash: Self.token(2), at: now) != nil)
        cache.forget(.player(2))
        #expect(cache.identity(forTokenHash: Self.token(3), at: now) == nil && cache.identity(forTokenHash: Self.token(4), at: now) == nil)
        #expect(cache.identity(forTokenHash: Self.token(2), at: now) != nil)
        #expect(cache.sessionCount == 1)
    }

    @Test func aReadThatRacedWithAForgettingIsNotRemembered() {
        let cache = SessionCache(capacity: 100, lifetime: 30)
        let now = Date()
        let epoch = cache.epoch
        cache.forget(.sessions([1]))  // the revocation landed while the database was being read
        cache.remember(Self.identity(1), forTokenHash: Self.token(1), at: now, readAtEpoch: epoch)
        #expect(cache.identity(forTokenHash: Self.token(1), at: now) == nil)
    }

    @Test func entriesEndWithTheirLifetimeTheirSessionOrAClockStepBack() {
        let cache = SessionCache(capacity: 100, lifetime: 30)
        let now = Date()
        cache.remember(Self.identity(1), forTokenHash: Self.token(1), at: now, readAtEpoch: cache.epoch)
        cache.remember(Self.identity(2, expires: now.addingTimeInterval(5)), forTokenHash: Self.token(2), at: now, readAtEpoch: cache.epoch)
        #expect(cache.identity(forTokenHash: Self.token(2), at: now.addingTimeInterval(4.9)) != nil)
        #expect(cache.identity(forTokenHash: Self.token(2), at: now.addingTimeInterval(5)) == nil)
        #expect(cache.identity(forTokenHash: Self.token(1), at: now.addingTimeInterval(-1)) == nil)
        cache.remember(Self.identity(1), forTokenHash: Self.token(1), at: now, readAtEpoch: cache.epoch)
        #expect(cache.identity(forTokenHash: Self.token(1), at: now.addingTimeInterval(29.9)) != nil)
        #expect(cache.identity(forTokenHash: Self.token(1), at: now.addingTimeInterval(30)) == nil)
        let off = SessionCache(capacity: 0, lifetime: 30)
        off.remember(Self.identity(1), forTokenHash: Self.token(1), at: now, readAtEpoch: off.epoch)
        #expect(off.identity(forTokenHash: Self.token(1), at: now) == nil)
    }
}
