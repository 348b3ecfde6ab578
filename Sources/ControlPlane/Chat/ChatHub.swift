import Foundation

/// Relays chat between this process's WebSocket connections.
///
/// Each socket registers here with the session it authenticated with; the hub holds it to the
/// per-account socket cap, closes it when that session ends (logout, refresh), unsubscribes it
/// from `game:{id}` when its player leaves the game, and drops it when its outbox overflows.
public actor ChatHub: ChatRelay {
    struct Connection {
        let playerID: Int64
        let sessionID: Int64
        let outbox: ChatOutbox
        /// Canonical channel name -> the label this connection joined it by ("dm:42" for them is
        /// "dm:7" for 42).
        var channels: [String: String] = [:]
    }

    private let socketsPerAccount: Int
    private var connections: [UUID: Connection] = [:]
    private var channels: [String: Set<UUID>] = [:]
    private var socketsByPlayer: [Int64: Int] = [:]

    init(limits: ControlPortLimits) { socketsPerAccount = limits.chatSocketsPerAccount }

    /// Admits a new socket; false when its account already holds the most sockets allowed.
    func register(_ connection: UUID, player: Int64, session: Int64, outbox: ChatOutbox) -> Bool {
        guard socketsByPlayer[player, default: 0] < socketsPerAccount else { return false }
        socketsByPlayer[player, default: 0] += 1
        connections[connection] = Connection(playerID: player, sessionID: session, outbox: outbox)
        return true
    }

    /// Forgets a socket and its subscriptions (idempotent).
    func remove(_ connection: UUID) {
        guard let removed = connections.removeValue(forKey: connection) else { return }
        for channel in removed.channels.keys { unlink(connection, from: channel) }
        let remaining = socketsByPlayer[removed.playerID, default: 1] - 1
        socketsByPlayer[removed.playerID] = remaining > 0 ? remaining : nil
    }

    func join(_ connection: UUID, channel: String, label: String) {
        subscribe(connection, to: channel, label: label)
    }

    /// ``join(_:channel:label:)``, saying whether it gave `channel` its first subscriber here.
    @discardableResult
    func subscribe(_ connection: UUID, to channel: String, label: String) -> Bool {
        guard connections[connection] != nil else { return false }
        connections[connection]?.channels[channel] = label
        return channels[channel, default: []].insert(connection).inserted && channels[channel]?.count == 1
    }

    func leave(_ connection: UUID, channel: String) {
        connections[connection]?.channels.removeValue(forKey: channel)
        unlink(connection, from: channel)
    }

    private func unlink(_ connection: UUID, from channel: String) {
        channels[channel]?.remove(connection)
        if channels[channel]?.isEmpty == true { channels.removeValue(forKey: channel) }
    }

    func isJoined(_ connection: UUID, channel: String) -> Bool { connections[connection]?.channels[channel] != nil }

    /// Closes every socket that authenticated with `session` (it was revoked or replaced).
    /// Bytes queued for this process's sockets, not yet handed to their connections.
    var bytesWaiting: Int { connections.values.reduce(0) { $0 + $1.outbox.bytesWaiting } }

    func endSession(_ session: Int64) {
        for (id, connection) in connections where connection.sessionID == session {
            connection.outbox.finish(.sessionEnded)
            remove(id)
        }
    }

    /// Unsubscribes every socket of `player` from `channel`, telling each why.
    func unsubscribe(player: Int64, from channel: String, reason: String) {
        for (id, connection) in connections where connection.playerID == player {
            guard let label = connection.channels[channel] else { continue }
            leave(id, channel: channel)
            if !connection.outbox.send(ChatWire.event("left", channel: label, reason: reason)) { remove(id) }
        }
    }

    /// Sends `message` to every subscriber of `channel`, labelled as each of them knows it. A
    /// subscriber whose outbox cannot take it is disconnected.
    func broadcast(_ message: ChatMessage, channel: String) {
        for id in channels[channel] ?? [] {
            guard let subscriber = connections[id], let label = subscriber.channels[channel] else { continue }
            var copy = message
            copy.channel = label
            guard let text = ChatWire.encode(copy) else { continue }
            if !subscriber.outbox.send(text) { remove(id) }
        }
    }

    /// Sockets open now.
    var socketCount: Int { connections.count }

    /// The channels with a subscriber here.
    var subscribedChannels: Set<String> { Set(channels.keys) }

    /// The sessions the open sockets authenticated with.
    var sessionIDs: Set<Int64> { Set(connections.values.map(\.sessionID)) }

    /// Sockets subscribed to `channel` now.
    func subscriberCount(_ channel: String) -> Int { channels[channel]?.count ?? 0 }
}
