import Foundation
import GRDB
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
        let database = services.database
        let presence = services.presence
        let limits = services.limits

        /// Friends and requests, by username, `limit` from after `cursor` (the last username of
        /// the previous page; usernames are unique regardless of case, and compared without it).
        @Sendable func list(_ me: Int64, after cursor: String = "", limit: Int = 50) async throws -> FriendList {
            // Plain Sendable tuples out of the read, so the asynchronous read is the one used.
            let rows = try await database.writer.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT f.requester_id, f.addressee_id, f.status, p.id AS other_id, p.username, p.display_name
                        FROM friendships f JOIN players p ON p.id = CASE WHEN f.requester_id = ? THEN f.addressee_id ELSE f.requester_id END
                        WHERE (f.requester_id = ? OR f.addressee_id = ?) AND p.username > ? ORDER BY p.username LIMIT ?
                        """, arguments: [me, me, me, cursor, limit + 1]
                ).map { row -> (status: String, other: Int64, username: String, displayName: String) in
                    let status: String = row["status"] == "accepted" ? "friend" : (row["requester_id"] == me ? "outgoing" : "incoming")
                    return (status, row["other_id"], row["username"], row["display_name"])
                }
            }
            let page = rows.prefix(limit)
            let online = await presence.onlinePlayers()
            return FriendList(
                friends: page.map { row in
                    FriendEntry(playerID: row.other, username: row.username, displayName: row.displayName, status: row.status,
                                online: row.status == "friend" && online.contains(row.other))
                },
                nextCursor: rows.count > limit ? page.last?.username : nil)
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
            let created = try await database.writer.write { db -> Bool in
                guard let other = try PlayerRecord.filter(Column("username") == body.username).fetchOne(db), let otherID = other.id else {
                    throw APIError.notFound("player")
                }
                guard otherID != me else { throw APIError.invalid("you cannot befriend yourself", code: "self_friendship") }
                if var theirs = try FriendshipRecord.filter(Column("requester_id") == otherID && Column("addressee_id") == me).fetchOne(db) {
                    if theirs.status == "pending" {
                        theirs.status = "accepted"
                        try theirs.update(db)
                    }
                    return false
                }
                if try FriendshipRecord.filter(Column("requester_id") == me && Column("addressee_id") == otherID).fetchOne(db) != nil {
                    throw APIError.conflict("a request to that player already exists", code: "already_requested")
                }
                let pending = try FriendshipRecord.filter(Column("requester_id") == me && Column("status") == "pending").fetchCount(db)
                guard pending < limits.pendingFriendRequestsPerAccount else {
                    throw APIError.conflict(
                        "an account may have at most \(limits.pendingFriendRequestsPerAccount) pending friend requests out",
                        code: "too_many_friend_requests")
                }
                var record = FriendshipRecord(id: nil, requesterID: me, addresseeID: otherID, status: "pending", createdAt: Date())
                try record.insert(db)
                return true
            }
            return EditedResponse(status: created ? .created : .ok, response: try await list(me))
        }
        group.post("/v1/friends/:id/accept") { _, context -> FriendList in
            let me = try context.requireIdentity().playerID
            let other = try context.parameters.id("id", "friend request")
            try await database.writer.write { db in
                guard var request = try FriendshipRecord.filter(Column("requester_id") == other && Column("addressee_id") == me && Column("status") == "pending").fetchOne(db)
                else { throw APIError.notFound("friend request") }
                request.status = "accepted"
                try request.update(db)
            }
            return try await list(me)
        }
        group.post("/v1/friends/:id/decline") { _, context -> FriendList in
            let me = try context.requireIdentity().playerID
            let other = try context.parameters.id("id", "friend request")
            let deleted = try await database.writer.write { db in
                try FriendshipRecord.filter(Column("requester_id") == other && Column("addressee_id") == me && Column("status") == "pending").deleteAll(db)
            }
            guard deleted > 0 else { throw APIError.notFound("friend request") }
            return try await list(me)
        }
        group.delete("/v1/friends/:id") { _, context -> HTTPResponse.Status in
            let me = try context.requireIdentity().playerID
            let other = try context.parameters.id("id", "friend")
            let deleted = try await database.writer.write { db in
                try FriendshipRecord.filter(
                    (Column("requester_id") == me && Column("addressee_id") == other) || (Column("requester_id") == other && Column("addressee_id") == me)
                ).deleteAll(db)
            }
            guard deleted > 0 else { throw APIError.notFound("friend") }
            return .noContent
        }
    }
}

/// Who is online: players with a chat connection or in a running match.
public actor Presence {
    private var connections: [Int64: Int] = [:]
    private var inMatch: Set<Int64> = []

    public init() {}

    func connected(_ player: Int64) { connections[player, default: 0] += 1 }

    func disconnected(_ player: Int64) {
        let remaining = (connections[player] ?? 1) - 1
        connections[player] = remaining > 0 ? remaining : nil
    }

    public func setInMatch(_ player: Int64, _ playing: Bool) {
        if playing { inMatch.insert(player) } else { inMatch.remove(player) }
    }

    func onlinePlayers() -> Set<Int64> { Set(connections.keys).union(inMatch) }
}
