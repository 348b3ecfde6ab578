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
}
