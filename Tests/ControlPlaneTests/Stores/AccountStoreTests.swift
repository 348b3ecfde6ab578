@testable import ControlPlane
import Foundation
import Testing

/// ``AccountStore``, against every implementation in ``StoreFactory/all``.
@Suite struct AccountStoreTests {
    @Test(arguments: StoreFactory.all) func createsAndFindsAccountsRegardlessOfCase(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let alice = try await stores.player("Alice")
            #expect(alice.username == "Alice" && alice.displayName == "The Alice")
            #expect(try await stores.accounts.account(named: "aLiCe") == alice)
            #expect(try await stores.accounts.account(id: alice.id) == alice)
            #expect(try await stores.accounts.account(named: "bob") == nil)
            #expect(try await stores.accounts.account(id: alice.id + 1000) == nil)
            let bob = try await stores.player("bob")
            #expect(try await stores.accounts.usernames(of: [alice.id, bob.id, 999_999]) == [alice.id: "Alice", bob.id: "bob"])
            #expect(try await stores.accounts.usernames(of: []).isEmpty)
            try await stores.accounts.setDisplayName("Ally", of: alice.id)
            #expect(try await stores.accounts.account(id: alice.id)?.displayName == "Ally")
            #expect(try await stores.results.statistics(of: alice.id) == PlayerStatistics())
        }
    }

    @Test(arguments: StoreFactory.all) func aTakenUsernameAndATakenEmailAreToldApart(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            _ = try await stores.accounts.createAccount(ControlPlaneStores.newAccount("alice"), firstSession: ControlPlaneStores.newSession())
            #expect(try await stores.accounts.isEmailClaimed(ControlPlaneStores.newAccount("alice").emailClaim))
            #expect(try await !stores.accounts.isEmailClaimed(ControlPlaneStores.newAccount("bob").emailClaim))
            await expectStoreError(.duplicateUsername) {
                try await stores.accounts.createAccount(
                    ControlPlaneStores.newAccount("ALICE", email: "other@example.com"), firstSession: ControlPlaneStores.newSession())
            }
            await expectStoreError(.duplicateEmail) {
                try await stores.accounts.createAccount(
                    ControlPlaneStores.newAccount("mallory", email: "alice@example.com"), firstSession: ControlPlaneStores.newSession())
            }
            // Both taken: the username is reported (it is public; the address never is).
            await expectStoreError(.duplicateUsername) {
                try await stores.accounts.createAccount(ControlPlaneStores.newAccount("alice"), firstSession: ControlPlaneStores.newSession())
            }
            // A refused account leaves nothing behind: the name and the address stay free of it.
            #expect(try await stores.accounts.account(named: "mallory") == nil)
            _ = try await stores.player("mallory")
        }
    }

    @Test(arguments: StoreFactory.all) func concurrentRegistrationsOfOneAddressGiveOneClaim(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        do {
                            _ = try await stores.accounts.createAccount(
                                ControlPlaneStores.newAccount("racer\(index)", email: "same@example.com"), firstSession: ControlPlaneStores.newSession())
                            return "created"
                        } catch StoreError.duplicateEmail {
                            return "duplicateEmail"
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "created" }.count == 1)
            #expect(outcomes.filter { $0 == "duplicateEmail" }.count == 7)
        }
    }

    @Test(arguments: StoreFactory.all) func concurrentRegistrationsOfOneNameInAnyCaseGiveOneAccount(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 {
                    let name = index.isMultiple(of: 2) ? "Racer" : "rACER"
                    group.addTask {
                        do {
                            _ = try await stores.accounts.createAccount(
                                ControlPlaneStores.newAccount(name, email: "racer\(index)@example.com"), firstSession: ControlPlaneStores.newSession())
                            return "created"
                        } catch StoreError.duplicateUsername {
                            return "duplicateUsername"
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "created" }.count == 1)
            #expect(outcomes.filter { $0 == "duplicateUsername" }.count == 7)
        }
    }

    @Test(arguments: StoreFactory.all) func sessionsStandForTheirPlayerUntilExpiredOrRevoked(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let first = ControlPlaneStores.newSession()
            let alice = try await stores.accounts.createAccount(ControlPlaneStores.newAccount("alice"), firstSession: first)
            let identity = try #require(try await stores.accounts.identity(forTokenHash: first.tokenHash, at: Date()))
            #expect(identity.playerID == alice.id && identity.username == "alice")
            #expect(try await stores.accounts.identity(forTokenHash: first.tokenHash, at: first.expiresAt.addingTimeInterval(1)) == nil)
            #expect(try await stores.accounts.identity(forTokenHash: Data("unknown".utf8), at: Date()) == nil)

            let second = ControlPlaneStores.newSession()
            try await stores.accounts.openSession(second, for: alice.id)
            let secondIdentity = try #require(try await stores.accounts.identity(forTokenHash: second.tokenHash, at: Date()))
            #expect(secondIdentity.sessionID != identity.sessionID)
            try await stores.accounts.revokeSession(identity.sessionID, at: Date())
            #expect(try await stores.accounts.identity(forTokenHash: first.tokenHash, at: Date()) == nil)
            #expect(try await stores.accounts.identity(forTokenHash: second.tokenHash, at: Date())?.sessionID == secondIdentity.sessionID)
        }
    }

    // MARK: Refresh tokens

    static func refresh(_ name: String, at now: Date = Date(), lifetime: TimeInterval = 3600) -> RefreshGrant {
        RefreshGrant(tokenHash: Data("refresh \(name)".utf8), createdAt: now, expiresAt: now.addingTimeInterval(lifetime))
    }

    static func session(at now: Date = Date(), refresh: RefreshGrant? = nil) -> SessionGrant {
        SessionGrant(tokenHash: Data(UUID().uuidString.utf8), createdAt: now, expiresAt: now.addingTimeInterval(3600), refresh: refresh)
    }

    @Test(arguments: StoreFactory.all) func endedSessionsAndFamiliesAreDeletedAndLiveOnesKept(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let now = Date()
            let expired = Self.session(at: now, refresh: Self.refresh("short", at: now))
            let alice = try await stores.accounts.createAccount(ControlPlaneStores.newAccount("alice"), firstSession: expired)
            // A session that expired, of a family that lives on (its token lasts 100 days).
            let lasting = Self.session(at: now, refresh: Self.refresh("lasting", at: now, lifetime: 100 * 86400))
            try await stores.accounts.openSession(lasting, for: alice.id)
            // A live session of a revoked family.
            var revoked = Self.session(at: now, refresh: Self.refresh("revoked", at: now))
            revoked.expiresAt = now.addingTimeInterval(10 * 86400)
            try await stores.accounts.openSession(revoked, for: alice.id)
            let revokedID = try #require(try await stores.accounts.identity(forTokenHash: revoked.tokenHash, at: now)).sessionID
            #expect(try await stores.accounts.revokeSessionFamily(of: revokedID, at: now) == [revokedID])
            // Expired sessions without a family, more than a batch of them.
            for _ in 0..<5 { try await stores.accounts.openSession(Self.session(at: now), for: alice.id) }

            let cutoff = now.addingTimeInterval(2 * 3600)
            var deleted = (sessions: 0, families: 0)
            while true {
                let batch = try await stores.accounts.deleteEndedSessions(before: cutoff, batch: 2)
                deleted.sessions += batch.sessions
                deleted.families += batch.families
                if batch == (0, 0) { break }
            }
            // Seven expired sessions (the revoked family's own went with it); two families.
            #expect(deleted.sessions == 7 && deleted.families == 2, "\(deleted)")
            #expect(try await stores.accounts.identity(forTokenHash: revoked.tokenHash, at: now) == nil)
            // The lasting family still rotates.
            let next = Self.session(at: now)
            let rotation = try await stores.accounts.rotateRefreshToken(
                Self.refresh("lasting").tokenHash, next: next, nextRefresh: Self.refresh("lasting 2", at: now), at: now)
            guard case .rotated(let identity, _) = rotation else {
                Issue.record("the lasting family's token did not rotate: \(rotation)")
                return
            }
            #expect(identity.playerID == alice.id)
            #expect(try await stores.accounts.identity(forTokenHash: next.tokenHash, at: now)?.playerID == alice.id)
            #expect(try await stores.accounts.deleteEndedSessions(before: now, batch: 100) == (0, 0))
        }
    }

    @Test(arguments: StoreFactory.all) func aRefreshTokenRotatesOnceAndItsReuseRevokesTheFamily(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let now = Date()
            let first = Self.session(at: now, refresh: Self.refresh("r1", at: now))
            let alice = try await stores.accounts.createAccount(ControlPlaneStores.newAccount("alice"), firstSession: first)
            let firstIdentity = try #require(try await stores.accounts.identity(forTokenHash: first.tokenHash, at: now))
            // Another login: a family of its own, untouched by what happens to the first.
            let other = Self.session(at: now, refresh: Self.refresh("other", at: now))
            try await stores.accounts.openSession(other, for: alice.id)

            let second = Self.session(at: now)
            guard case .rotated(let identity, let ended) = try await stores.accounts.rotateRefreshToken(
                Self.refresh("r1").tokenHash, next: second, nextRefresh: Self.refresh("r2", at: now), at: now)
            else { Issue.record("a live token rotates"); return }
            #expect(identity.playerID == alice.id && identity.username == "alice" && identity.sessionID != firstIdentity.sessionID)
            #expect(ended == [firstIdentity.sessionID])
            #expect(try await stores.accounts.identity(forTokenHash: first.tokenHash, at: now) == nil)
            #expect(try await stores.accounts.identity(forTokenHash: second.tokenHash, at: now)?.sessionID == identity.sessionID)

            // The rotated token again: reuse. The family's live session (from r2) is revoked, and r2 with it.
            guard case .reused(let revoked) = try await stores.accounts.rotateRefreshToken(
                Self.refresh("r1").tokenHash, next: Self.session(at: now), nextRefresh: Self.refresh("r3", at: now), at: now)
            else { Issue.record("a rotated token is reuse"); return }
            #expect(revoked == [identity.sessionID])
            #expect(try await stores.accounts.identity(forTokenHash: second.tokenHash, at: now) == nil)
            guard case .invalid = try await stores.accounts.rotateRefreshToken(
                Self.refresh("r2").tokenHash, next: Self.session(at: now), nextRefresh: Self.refresh("r4", at: now), at: now)
            else { Issue.record("a revoked family's live token is refused"); return }
            guard case .invalid = try await stores.accounts.rotateRefreshToken(
                Data("unknown".utf8), next: Self.session(at: now), nextRefresh: Self.refresh("r5", at: now), at: now)
            else { Issue.record("an unknown token is refused"); return }
            // The other family still resumes.
            #expect(try await stores.accounts.identity(forTokenHash: other.tokenHash, at: now) != nil)
            guard case .rotated = try await stores.accounts.rotateRefreshToken(
                Self.refresh("other").tokenHash, next: Self.session(at: now), nextRefresh: Self.refresh("other2", at: now), at: now)
            else { Issue.record("another family is untouched"); return }
        }
    }

    @Test(arguments: StoreFactory.all) func anExpiredRefreshTokenIsRefusedButItsReuseIsStillDetected(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let now = Date()
            let alice = try await stores.accounts.createAccount(
                ControlPlaneStores.newAccount("alice"), firstSession: Self.session(at: now, refresh: Self.refresh("r1", at: now, lifetime: 60)))
            let later = now.addingTimeInterval(61)
            guard case .expired = try await stores.accounts.rotateRefreshToken(
                Self.refresh("r1").tokenHash, next: Self.session(at: later), nextRefresh: Self.refresh("r2", at: later), at: later)
            else { Issue.record("an expired token is refused"); return }
            // Refusing it changed nothing: just before its expiry it still rotates, once.
            let sooner = now.addingTimeInterval(59)
            guard case .rotated = try await stores.accounts.rotateRefreshToken(
                Self.refresh("r1").tokenHash, next: Self.session(at: sooner), nextRefresh: Self.refresh("r2", at: sooner), at: sooner)
            else { Issue.record("a live token rotates"); return }
            guard case .reused = try await stores.accounts.rotateRefreshToken(
                Self.refresh("r1").tokenHash, next: Self.session(at: later), nextRefresh: Self.refresh("r3", at: later), at: later)
            else { Issue.record("a used token is reuse, expired or not"); return }
            _ = alice
        }
    }

    @Test(arguments: StoreFactory.all) func concurrentPresentationsOfOneTokenRotateOnce(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let now = Date()
            _ = try await stores.accounts.createAccount(
                ControlPlaneStores.newAccount("alice"), firstSession: Self.session(at: now, refresh: Self.refresh("r1", at: now)))
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        switch try await stores.accounts.rotateRefreshToken(
                            Self.refresh("r1").tokenHash, next: Self.session(at: now), nextRefresh: Self.refresh("next \(index)", at: now), at: now)
                        {
                        case .rotated: "rotated"
                        case .reused: "reused"
                        case .expired: "expired"
                        case .invalid: "invalid"
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "rotated" }.count == 1, "\(outcomes)")
            // The first copy presented after the rotation is reuse; later ones find the family revoked.
            #expect(outcomes.filter { $0 == "reused" }.count >= 1, "\(outcomes)")
            #expect(outcomes.allSatisfy { ["rotated", "reused", "invalid"].contains($0) }, "\(outcomes)")
        }
    }

    @Test(arguments: StoreFactory.all) func revokingASessionsFamilyEndsItsSessionsAndTokens(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let now = Date()
            let first = Self.session(at: now, refresh: Self.refresh("r1", at: now))
            let alice = try await stores.accounts.createAccount(ControlPlaneStores.newAccount("alice"), firstSession: first)
            let firstID = try #require(try await stores.accounts.identity(forTokenHash: first.tokenHash, at: now)).sessionID
            let second = Self.session(at: now)
            guard case .rotated(let identity, _) = try await stores.accounts.rotateRefreshToken(
                Self.refresh("r1").tokenHash, next: second, nextRefresh: Self.refresh("r2", at: now), at: now)
            else { Issue.record("a live token rotates"); return }
            let plain = Self.session(at: now)
            try await stores.accounts.openSession(plain, for: alice.id)
            let plainID = try #require(try await stores.accounts.identity(forTokenHash: plain.tokenHash, at: now)).sessionID

            #expect(try await stores.accounts.revokeSessionFamily(of: identity.sessionID, at: now) == [identity.sessionID])
            #expect(try await stores.accounts.identity(forTokenHash: second.tokenHash, at: now) == nil)
            guard case .invalid = try await stores.accounts.rotateRefreshToken(
                Self.refresh("r2").tokenHash, next: Self.session(at: now), nextRefresh: Self.refresh("r3", at: now), at: now)
            else { Issue.record("a revoked family's token is refused"); return }
            // Again: nothing more to revoke. A session without a family is revoked alone.
            #expect(try await stores.accounts.revokeSessionFamily(of: identity.sessionID, at: now).isEmpty)
            #expect(try await stores.accounts.revokeSessionFamily(of: firstID, at: now).isEmpty)
            #expect(try await stores.accounts.revokeSessionFamily(of: plainID, at: now) == [plainID])
            #expect(try await stores.accounts.identity(forTokenHash: plain.tokenHash, at: now) == nil)
        }
    }

    @Test(arguments: StoreFactory.all) func sessionsReportTheirExpiry(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let now = Date()
            let grant = Self.session(at: now)
            _ = try await stores.accounts.createAccount(ControlPlaneStores.newAccount("alice"), firstSession: grant)
            let identity = try #require(try await stores.accounts.identity(forTokenHash: grant.tokenHash, at: now))
            #expect(abs(identity.sessionExpiresAt.timeIntervalSince(grant.expiresAt)) < 0.01)
        }
    }

    // MARK: Device accounts and credentials

    static func deviceAccount(_ name: String, device: String) -> NewAccount {
        NewAccount(
            username: name, displayName: "Player", sealedEmail: Data(), emailClaim: Data("unclaimed \(name)".utf8), passwordHash: nil,
            createdAt: Date(), deviceHash: Data("device \(device)".utf8))
    }

    @Test(arguments: StoreFactory.all) func deviceAccountsAreFoundByTheirDeviceAndHaveNoPassword(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let phone = try await stores.accounts.createAccount(Self.deviceAccount("player_one", device: "phone"), firstSession: Self.session())
            #expect(phone.passwordHash == nil && phone.sealedEmail.isEmpty)
            #expect(try await stores.accounts.account(deviceHash: Data("device phone".utf8)) == phone)
            #expect(try await stores.accounts.account(named: "player_one")?.passwordHash == nil)
            #expect(try await stores.accounts.account(deviceHash: Data("device tablet".utf8)) == nil)
            await expectStoreError(.duplicateDevice) {
                try await stores.accounts.createAccount(Self.deviceAccount("player_two", device: "phone"), firstSession: Self.session())
            }
            await expectStoreError(.duplicateUsername) {
                try await stores.accounts.createAccount(Self.deviceAccount("PLAYER_ONE", device: "tablet"), firstSession: Self.session())
            }
            // Accounts with passwords have no device, and any number of them coexist.
            _ = try await stores.player("alice")
            _ = try await stores.player("bob")
            #expect(try await stores.accounts.account(named: "alice")?.passwordHash == "hash of alice")
        }
    }

    @Test(arguments: StoreFactory.all) func credentialsAreGivenOnceToAPasswordlessAccount(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let phone = try await stores.accounts.createAccount(Self.deviceAccount("player_one", device: "phone"), firstSession: Self.session())
            let tablet = try await stores.accounts.createAccount(Self.deviceAccount("player_two", device: "tablet"), firstSession: Self.session())
            let alice = try await stores.player("alice")
            await expectStoreError(.duplicateUsername) {
                try await stores.accounts.setCredentials(NewCredentials(username: "ALICE", passwordHash: "h"), of: phone.id)
            }
            await expectStoreError(.duplicateEmail) {
                try await stores.accounts.setCredentials(
                    NewCredentials(username: "phoney", passwordHash: "h", sealedEmail: Data("sealed".utf8), emailClaim: Data("claim of alice@example.com".utf8)),
                    of: phone.id)
            }
            // Refused changes left the account as it was.
            #expect(try await stores.accounts.account(id: phone.id) == phone)

            let upgraded = try await stores.accounts.setCredentials(
                NewCredentials(username: "Phoney", passwordHash: "hash of phoney", sealedEmail: Data("sealed".utf8), emailClaim: Data("claim".utf8)),
                of: phone.id)
            #expect(upgraded.username == "Phoney" && upgraded.passwordHash == "hash of phoney" && upgraded.sealedEmail == Data("sealed".utf8))
            #expect(try await stores.accounts.account(named: "phoney") == upgraded)
            #expect(try await stores.accounts.account(deviceHash: Data("device phone".utf8)) == upgraded)
            #expect(try await stores.accounts.isEmailClaimed(Data("claim".utf8)))
            await expectStoreError(.passwordAlreadySet) {
                try await stores.accounts.setCredentials(NewCredentials(username: "again", passwordHash: "h"), of: phone.id)
            }
            await expectStoreError(.passwordAlreadySet) {
                try await stores.accounts.setCredentials(NewCredentials(username: "again", passwordHash: "h"), of: alice.id)
            }
            await expectStoreError(.notFound(.player)) {
                try await stores.accounts.setCredentials(NewCredentials(username: "again", passwordHash: "h"), of: 999_999)
            }
            // Without an address: the account keeps none.
            let second = try await stores.accounts.setCredentials(NewCredentials(username: "tabby", passwordHash: "hash of tabby"), of: tablet.id)
            #expect(second.username == "tabby" && second.sealedEmail.isEmpty && second.passwordHash == "hash of tabby")
        }
    }
}
