import Foundation
import PostgresNIO

/// What the chat relays of several control ports tell each other on the bus.
///
/// A stored message is notified as `id:channel`, never its body: the row is the source of truth,
/// and each relay reads it back from the table (``PostgresChatRelay``). An unsubscription is
/// `{"player","channel","reason"}` in JSON.
enum ChatNotices {
    /// Channels of one family share this first key of their appends' advisory locks.
    static let appendLockClass: Int32 = 0x4368_6174  // "Chat"

    /// Orders the appends to `channel`: taken before the insert and held until the transaction
    /// ends, so that the channel's ids are given and committed in the same order. Without it two
    /// concurrent appends could commit their ids out of order, and a relay that had delivered the
    /// later would skip the earlier. (Two channels whose names hash alike merely wait for each
    /// other.)
    static func lockChannel(_ channel: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.run("SELECT pg_advisory_xact_lock(\(appendLockClass), hashtext(\(channel)))", logger: logger)
    }

    /// Tells every control port that message `id` of `channel` is stored, when the transaction
    /// on `connection` commits.
    static func sendStored(id: Int64, channel: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await PostgresNotificationBus.notify(.chatMessage, "\(id):\(channel)", on: connection, logger: logger)
    }

    /// The id and channel of a stored-message body.
    static func stored(in body: Substring) -> (id: Int64, channel: String)? {
        guard let colon = body.firstIndex(of: ":"), let id = Int64(body[..<colon]) else { return nil }
        let channel = body[body.index(after: colon)...]
        guard !channel.isEmpty else { return nil }
        return (id, String(channel))
    }

    struct Unsubscription: Codable, Sendable, Equatable {
        var player: Int64
        var channel: String
        var reason: String
    }

    static func body(_ unsubscription: Unsubscription) -> String? {
        (try? JSONEncoder().encode(unsubscription)).map { String(decoding: $0, as: UTF8.self) }
    }

    static func unsubscription(in body: Substring) -> Unsubscription? {
        try? JSONDecoder().decode(Unsubscription.self, from: Data(body.utf8))
    }
}
