@testable import ControlPlane
import Testing

/// ``FriendStore``, against every implementation in ``StoreFactory/all``.
@Suite struct FriendStoreTests {
    @Test(arguments: StoreFactory.all) func requestsAreAnsweredOnceAndCapped(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let ann = try await stores.player("ann")
            let ben = try await stores.player("Ben")
            let cat = try await stores.player("cat")
            let dan = try await stores.player("dan")
            #expect(try await stores.friends.requestFriendship(from: ann.id, to: ben.id, maxPending: 2) == .requested)
            await expectStoreError(.alreadyExists) { try await stores.friends.requestFriendship(from: ann.id, to: ben.id, maxPending: 2) }
            #expect(try await stores.friends.requestFriendship(from: ann.id, to: cat.id, maxPending: 2) == .requested)
            await expectStoreError(.capReached(held: 2)) { try await stores.friends.requestFriendship(from: ann.id, to: dan.id, maxPending: 2) }

            // Asking someone who asked first accepts their request.
            #expect(try await stores.friends.requestFriendship(from: ben.id, to: ann.id, maxPending: 2) == .acceptedTheirs)
            let seen = try await stores.friends.friendships(of: ann.id, after: "", limit: 10)
            #expect(seen.map(\.username) == ["Ben", "cat"])
            #expect(seen.map(\.standing) == [.friend, .outgoing])
            #expect(try await stores.friends.friendships(of: cat.id, after: "", limit: 10).map(\.standing) == [.incoming])
            // Pages by username, regardless of case.
            #expect(try await stores.friends.friendships(of: ann.id, after: "ben", limit: 10).map(\.username) == ["cat"])
            #expect(try await stores.friends.friendships(of: ann.id, after: "", limit: 1).map(\.username) == ["Ben"])

            await expectStoreError(.notFound(.friendRequest)) { try await stores.friends.acceptFriendRequest(from: dan.id, to: ann.id) }
            try await stores.friends.declineFriendRequest(from: ann.id, to: cat.id)
            await expectStoreError(.notFound(.friendRequest)) { try await stores.friends.declineFriendRequest(from: ann.id, to: cat.id) }
            try await stores.friends.removeFriendship(between: ben.id, and: ann.id)
            await expectStoreError(.notFound(.friend)) { try await stores.friends.removeFriendship(between: ann.id, and: ben.id) }
            #expect(try await stores.friends.friendships(of: ann.id, after: "", limit: 10).isEmpty)
            // Answered requests free their slots.
            #expect(try await stores.friends.requestFriendship(from: ann.id, to: dan.id, maxPending: 2) == .requested)
            try await stores.friends.acceptFriendRequest(from: ann.id, to: dan.id)
            #expect(try await stores.friends.friendships(of: dan.id, after: "", limit: 10).map(\.standing) == [.friend])
        }
    }
}
