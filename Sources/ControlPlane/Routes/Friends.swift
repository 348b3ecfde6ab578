import Foundation
import Hummingbird

struct FriendEntry: ResponseEncodable {
    var playerID: Int64
    var username: String
    var displayName: String
    /// "friend", "incoming" (they asked you) or "outgoing" (you asked them).
    var status: String
    var online: Bool
}

struct FriendList: ResponseEncodable {
    var friends: [FriendEntry]
    /// Pass as `cursor` for the next page; absent on the last.
    var nextCursor: String?
}

struct FriendRequest: Decodable {
    var username: String
}

extension ControlPlaneRoutes {
    func addFriendRoutes(_ group: RouterGroup<ArbiterRequestContext>) {
        let friends = services.stores.friends
        let accounts = services.stores.accounts
        let presence = services.presence
        let limits = services.limits

        /// Friends and requests, by username, `limit` from after `cursor` (the last username of
        /// the previous page; usernames are unique regardless of case, and compared without it).
        @Sendable func list(_ me: Int64, after cursor: String = "", limit: Int = 50) async throws -> FriendList {
            let friendships = try await friends.friendships(of: me, after: cursor, limit: limit + 1)
            let page = friendships.prefix(limit)
            let online = await presence.online(among: page.filter { $0.standing == .friend }.map(\.playerID))
            return FriendList(
                friends: page.map { friendship in
                    FriendEntry(
                        playerID: friendship.playerID, username: friendship.username, displayName: friendship.displayName,
                        status: friendship.standing.rawValue, online: online.contains(friendship.playerID))
                },
                nextCursor: friendships.count > limit ? page.last?.username : nil)
        }

        group.get("/v1/friends") { request, context -> FriendList in
            let me = try context.requireIdentity().playerID
            let limit = try request.queryInt("limit", default: 50, range: 1...100)
            let cursor = request.uri.queryParameters.get("cursor") ?? ""
            guard cursor.utf8.count <= 64 else { throw APIError.badRequest("invalid cursor", code: "invalid_query") }
            return try await list(me, after: cursor, limit: limit)
        }
        // Asking someone who already asked you accepts their request.
        group.post("/v1/friends") { request, context -> EditedResponse<FriendList> in
            let me = try context.requireIdentity().playerID
            let body = try await request.json(FriendRequest.self, context: context)
            guard let other = try await accounts.account(named: body.username) else { throw APIError.notFound("player") }
            guard other.id != me else { throw APIError.invalid("you cannot befriend yourself", code: "self_friendship") }
            let result: FriendRequestResult
            do {
                result = try await friends.requestFriendship(from: me, to: other.id, maxPending: limits.pendingFriendRequestsPerAccount)
            } catch StoreError.alreadyExists {
                throw APIError.conflict("a request to that player already exists", code: "already_requested")
            } catch StoreError.capReached {
                throw APIError.conflict(
                    "an account may have at most \(limits.pendingFriendRequestsPerAccount) pending friend requests out",
                    code: "too_many_friend_requests")
            }
            return EditedResponse(status: result == .requested ? .created : .ok, response: try await list(me))
        }
        group.post("/v1/friends/:id/accept") { _, context -> FriendList in
            let me = try context.requireIdentity().playerID
            let other = try context.parameters.id("id", "friend request")
            try await friends.acceptFriendRequest(from: other, to: me)
            return try await list(me)
        }
        group.post("/v1/friends/:id/decline") { _, context -> FriendList in
            let me = try context.requireIdentity().playerID
            let other = try context.parameters.id("id", "friend request")
            try await friends.declineFriendRequest(from: other, to: me)
            return try await list(me)
        }
        group.delete("/v1/friends/:id") { _, context -> HTTPResponse.Status in
            let me = try context.requireIdentity().playerID
            let other = try context.parameters.id("id", "friend")
            try await friends.removeFriendship(between: me, and: other)
            return .noContent
        }
    }
}
