import Foundation

/// The chat sockets and what reaches them: each socket's subscriptions, the per-account socket
/// cap, and the fan-out of messages and session ends. ``ChatHub`` relays between this process's
/// sockets; several control ports would relay through a shared bus instead, with the same calls.
protocol ChatRelay: Sendable {
    /// Admits a new socket; false when its account already holds the most sockets allowed.
    func register(_ connection: UUID, player: Int64, session: Int64, outbox: ChatOutbox) async -> Bool
    /// Forgets a socket and its subscriptions (idempotent).
    func remove(_ connection: UUID) async
    /// Subscribes the socket to the canonical `channel`, which it knows as `label`.
    func join(_ connection: UUID, channel: String, label: String) async
    func leave(_ connection: UUID, channel: String) async
    func isJoined(_ connection: UUID, channel: String) async -> Bool
    /// Closes every socket that authenticated with `session` (it was revoked or replaced).
    func endSession(_ session: Int64) async
    /// Unsubscribes every socket of `player` from `channel`, telling each why.
    func unsubscribe(player: Int64, from channel: String, reason: String) async
    /// Sends `message` to every subscriber of `channel`, labelled as each of them knows it.
    func broadcast(_ message: ChatMessage, channel: String) async
    /// Sockets open here now.
    var socketCount: Int { get async }
    /// Sockets subscribed to `channel` here now.
    func subscriberCount(_ channel: String) async -> Int
}
