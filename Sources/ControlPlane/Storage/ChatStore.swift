import Foundation

/// A chat message as stored, with its sender's username.
struct StoredChatMessage: Sendable, Equatable {
    var id: Int64
    /// The canonical channel name (see ``ChatChannels``).
    var channel: String
    var senderID: Int64
    var senderName: String
    var body: String
    var sentAt: Date
}

/// Chat history.
protocol ChatStore: Sendable {
    /// Stores a message and, in the same transaction, deletes what its channel then holds beyond
    /// `retention`; returns the message's id. Ids grow with time.
    func append(channel: String, sender: Int64, body: String, at now: Date, retention: ChatRetention) async throws -> Int64
    /// The channel's messages newest first: at most `limit` with ids below `before`, none sent
    /// before `cutoff`.
    func history(of channel: String, before: Int64, notBefore cutoff: Date, limit: Int) async throws -> [StoredChatMessage]
    /// Deletes messages sent before `cutoff` in any channel, at most `batch` of the oldest at once;
    /// returns how many went.
    func deleteMessages(sentBefore cutoff: Date, batch: Int) async throws -> Int
}
