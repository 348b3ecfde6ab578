import Foundation
import GRDB

/// ``FriendStore`` on the SQLite database.
struct SQLiteFriendStore: FriendStore {
    let database: AppDatabase

    func friendships(of player: Int64, after cursor: String, limit: Int) async throws -> [Friendship] {
        // `p.username` is COLLATE NOCASE: the cursor and the order ignore case.
        try await database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT f.requester_id, f.status, p.id AS other_id, p.username, p.display_name
                    FROM friendships f JOIN players p ON p.id = CASE WHEN f.requester_id = ? THEN f.addressee_id ELSE f.requester_id END
                    WHERE (f.requester_id = ? OR f.addressee_id = ?) AND p.username > ? ORDER BY p.username LIMIT ?
                    """, arguments: [player, player, player, cursor, limit]
            ).map { row in
                let standing: Friendship.Standing =
                    row["status"] == "accepted" ? .friend : (row["requester_id"] == player ? .outgoing : .incoming)
                return Friendship(playerID: row["other_id"], username: row["username"], displayName: row["display_name"], standing: standing)
            }
        }
    }

    func requestFriendship(from player: Int64, to other: Int64, maxPending: Int) async throws -> FriendRequestResult {
        try await database.writer.write { db in
            if var theirs = try FriendshipRecord.filter(Column("requester_id") == other && Column("addressee_id") == player).fetchOne(db) {
                if theirs.status == "pending" {
                    theirs.status = "accepted"
                    try theirs.update(db)
                }
                return .acceptedTheirs
            }
            if try FriendshipRecord.filter(Column("requester_id") == player && Column("addressee_id") == other).fetchCount(db) > 0 {
                throw StoreError.alreadyExists
            }
            let pending = try FriendshipRecord.filter(Column("requester_id") == player && Column("status") == "pending").fetchCount(db)
            guard pending < maxPending else { throw StoreError.capReached(held: pending) }
            var record = FriendshipRecord(id: nil, requesterID: player, addresseeID: other, status: "pending", createdAt: Date())
            try record.insert(db)
            return .requested
        }
    }

    private static func pendingRequest(from requester: Int64, to addressee: Int64) -> QueryInterfaceRequest<FriendshipRecord> {
        FriendshipRecord.filter(Column("requester_id") == requester && Column("addressee_id") == addressee && Column("status") == "pending")
    }

    func acceptFriendRequest(from requester: Int64, to addressee: Int64) async throws {
        try await database.writer.write { db in
            guard var request = try Self.pendingRequest(from: requester, to: addressee).fetchOne(db) else {
                throw StoreError.notFound(.friendRequest)
            }
            request.status = "accepted"
            try request.update(db)
        }
    }

    func declineFriendRequest(from requester: Int64, to addressee: Int64) async throws {
        let deleted = try await database.writer.write { db in try Self.pendingRequest(from: requester, to: addressee).deleteAll(db) }
        guard deleted > 0 else { throw StoreError.notFound(.friendRequest) }
    }

    func removeFriendship(between player: Int64, and other: Int64) async throws {
        let deleted = try await database.writer.write { db in
            try FriendshipRecord.filter(
                (Column("requester_id") == player && Column("addressee_id") == other)
                    || (Column("requester_id") == other && Column("addressee_id") == player)
            ).deleteAll(db)
        }
        guard deleted > 0 else { throw StoreError.notFound(.friend) }
    }
}
