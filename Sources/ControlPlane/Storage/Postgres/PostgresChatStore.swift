import Foundation
import PostgresNIO

/// ``ChatStore`` on the PostgreSQL database.
struct PostgresChatStore: ChatStore {
    let database: PostgresDatabase
    private var logger: Logger { database.logger }

    func append(channel: String, sender: Int64, body: String, at now: Date, retention: ChatRetention) async throws -> Int64 {
        try await database.transaction { connection in
            try await ChatNotices.lockChannel(channel, on: connection, logger: logger)
            let rows = try await connection.rows(
                "INSERT INTO chat_messages (channel, sender_id, body, created_at) VALUES (\(channel), \(sender), \(body), \(now)) RETURNING id",
                logger: logger)
            guard let row = rows.first else { throw PostgresStoreInconsistency(what: "an insert returned no id") }
            let id = try row.decode(Int64.self)
            try await ChatNotices.sendStored(id: id, channel: channel, on: connection, logger: logger)
            // What the channel holds beyond its bounds. Uses the (channel, id) index: ids grow
            // with time, so the oldest rows are the lowest ids.
            try await connection.run(
                """
                DELETE FROM chat_messages WHERE channel = \(channel) AND id <= (
                    SELECT id FROM chat_messages WHERE channel = \(channel) ORDER BY id DESC LIMIT 1 OFFSET \(retention.perChannel))
                """, logger: logger)
            try await connection.run(
                """
                DELETE FROM chat_messages WHERE id IN (
                    SELECT id FROM chat_messages WHERE channel = \(channel) ORDER BY id LIMIT 256) AND created_at < \(retention.cutoff(now: now))
                """, logger: logger)
            return id
        }
    }

    func history(of channel: String, before: Int64, notBefore cutoff: Date, limit: Int) async throws -> [StoredChatMessage] {
        try await database.rows(
            """
            SELECT m.id, m.sender_id, p.username, m.body, m.created_at FROM chat_messages m JOIN players p ON p.id = m.sender_id
            WHERE m.channel = \(channel) AND m.id < \(before) AND m.created_at >= \(cutoff) ORDER BY m.id DESC LIMIT \(limit)
            """
        ).map { row in
            let (id, senderID, senderName, body, sentAt) = try row.decode((Int64, Int64, String, String, Date).self)
            return StoredChatMessage(id: id, channel: channel, senderID: senderID, senderName: senderName, body: body, sentAt: sentAt)
        }
    }

    func deleteMessages(sentBefore cutoff: Date, batch: Int) async throws -> Int {
        // One short statement per batch, so that chat inserts are not held up. Ids grow with
        // time, so the expired rows are the lowest ids.
        let rows = try await database.rows(
            """
            WITH deleted AS (
                DELETE FROM chat_messages WHERE id IN (SELECT id FROM chat_messages ORDER BY id LIMIT \(batch)) AND created_at < \(cutoff)
                RETURNING 1)
            SELECT count(*) FROM deleted
            """)
        return try rows.first?.decode(Int.self) ?? 0
    }
}
