import Foundation
import GRDB

/// ``ChatStore`` on the SQLite database.
struct SQLiteChatStore: ChatStore {
    let database: AppDatabase

    func append(channel: String, sender: Int64, body: String, at now: Date, retention: ChatRetention) async throws -> Int64 {
        try await database.writer.write { db in
            var record = ChatMessageRecord(id: nil, channel: channel, senderID: sender, body: body, createdAt: now)
            try record.insert(db)
            let id = db.lastInsertedRowID
            // What the channel holds beyond its bounds. Uses the (channel, id) index: ids grow
            // with time, so the oldest rows are the lowest ids.
            try db.execute(
                sql: """
                    DELETE FROM chat_messages WHERE channel = ? AND id <= (
                        SELECT id FROM chat_messages WHERE channel = ? ORDER BY id DESC LIMIT 1 OFFSET ?)
                    """, arguments: [channel, channel, retention.perChannel])
            try db.execute(
                sql: """
                    DELETE FROM chat_messages WHERE id IN (
                        SELECT id FROM chat_messages WHERE channel = ? ORDER BY id LIMIT 256) AND created_at < ?
                    """, arguments: [channel, retention.cutoff(now: now)])
            return id
        }
    }

    func history(of channel: String, before: Int64, notBefore cutoff: Date, limit: Int) async throws -> [StoredChatMessage] {
        try await database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, m.sender_id, p.username, m.body, m.created_at FROM chat_messages m JOIN players p ON p.id = m.sender_id
                    WHERE m.channel = ? AND m.id < ? AND m.created_at >= ? ORDER BY m.id DESC LIMIT ?
                    """, arguments: [channel, before, cutoff, limit]
            ).map {
                StoredChatMessage(
                    id: $0["id"], channel: channel, senderID: $0["sender_id"], senderName: $0["username"], body: $0["body"], sentAt: $0["created_at"])
            }
        }
    }

    func deleteMessages(sentBefore cutoff: Date, batch: Int) async throws -> Int {
        // One short write transaction per batch, so that chat inserts are not held up. Ids grow
        // with time, so the expired rows are the lowest ids.
        try await database.writer.write { db -> Int in
            try db.execute(
                sql: "DELETE FROM chat_messages WHERE id IN (SELECT id FROM chat_messages ORDER BY id LIMIT ?) AND created_at < ?",
                arguments: [batch, cutoff])
            return db.changesCount
        }
    }
}
