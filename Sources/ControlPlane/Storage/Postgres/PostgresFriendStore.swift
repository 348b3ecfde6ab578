import Foundation
import PostgresNIO

/// ``FriendStore`` on the PostgreSQL database.
struct PostgresFriendStore: FriendStore {
    let database: PostgresDatabase
    private var logger: Logger { database.logger }

    func friendships(of player: Int64, after cursor: String, limit: Int) async throws -> [Friendship] {
        // `p.username` is COLLATE "C": lower() folds ASCII only and orders by byte, as SQLite's
        // NOCASE does, so the cursor and the order ignore case alike on both.
        try await database.rows(
            """
            SELECT f.requester_id, f.status, p.id, p.username, p.display_name
            FROM friendships f JOIN players p ON p.id = CASE WHEN f.requester_id = \(player) THEN f.addressee_id ELSE f.requester_id END
            WHERE (f.requester_id = \(player) OR f.addressee_id = \(player)) AND lower(p.username) > lower(\(cursor)::text COLLATE "C")
            ORDER BY lower(p.username) LIMIT \(limit)
            """
        ).map { row in
            let (requester, status, otherID, username, displayName) = try row.decode((Int64, String, Int64, String, String).self)
            let standing: Friendship.Standing = status == "accepted" ? .friend : (requester == player ? .outgoing : .incoming)
            return Friendship(playerID: otherID, username: username, displayName: displayName, standing: standing)
        }
    }

    /// Locks both players' rows (in id order, so that two transactions never wait on each
    /// other): what follows reads and writes their requests as one serial step, as SQLite's
    /// one writer does.
    private static func lockPair(_ one: Int64, _ other: Int64, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.run("SELECT id FROM players WHERE id IN (\(one), \(other)) ORDER BY id FOR NO KEY UPDATE", logger: logger)
    }

    func requestFriendship(from player: Int64, to other: Int64, maxPending: Int) async throws -> FriendRequestResult {
        try await database.transaction { connection in
            try await Self.lockPair(player, other, connection, logger: logger)
            let theirs = try await connection.rows(
                "SELECT status FROM friendships WHERE requester_id = \(other) AND addressee_id = \(player)", logger: logger)
            if let row = theirs.first {
                if try row.decode(String.self) == "pending" {
                    try await connection.run(
                        "UPDATE friendships SET status = 'accepted' WHERE requester_id = \(other) AND addressee_id = \(player)", logger: logger)
                }
                return .acceptedTheirs
            }
            let mine = try await connection.rows(
                "SELECT 1 FROM friendships WHERE requester_id = \(player) AND addressee_id = \(other)", logger: logger)
            if !mine.isEmpty { throw StoreError.alreadyExists }
            let pending = try await connection.rows(
                "SELECT count(*) FROM friendships WHERE requester_id = \(player) AND status = 'pending'", logger: logger
            ).first?.decode(Int.self) ?? 0
            guard pending < maxPending else { throw StoreError.capReached(held: pending) }
            try await connection.run(
                """
                INSERT INTO friendships (requester_id, addressee_id, status, created_at) VALUES (\(player), \(other), 'pending', \(Date()))
                """, logger: logger)
            return .requested
        }
    }

    func acceptFriendRequest(from requester: Int64, to addressee: Int64) async throws {
        let accepted = try await database.rows(
            """
            UPDATE friendships SET status = 'accepted' WHERE requester_id = \(requester) AND addressee_id = \(addressee) AND status = 'pending'
            RETURNING 1
            """)
        guard !accepted.isEmpty else { throw StoreError.notFound(.friendRequest) }
    }

    func declineFriendRequest(from requester: Int64, to addressee: Int64) async throws {
        let deleted = try await database.rows(
            "DELETE FROM friendships WHERE requester_id = \(requester) AND addressee_id = \(addressee) AND status = 'pending' RETURNING 1")
        guard !deleted.isEmpty else { throw StoreError.notFound(.friendRequest) }
    }

    func removeFriendship(between player: Int64, and other: Int64) async throws {
        let deleted = try await database.rows(
            """
            DELETE FROM friendships WHERE (requester_id = \(player) AND addressee_id = \(other))
            OR (requester_id = \(other) AND addressee_id = \(player)) RETURNING 1
            """)
        guard !deleted.isEmpty else { throw StoreError.notFound(.friend) }
    }
}
