import Foundation
import Logging
import PostgresNIO

/// Chat across the control ports on one PostgreSQL database. Each instance's sockets stay in a
/// local ``ChatHub``; what reaches them comes from the table, which is the source of truth.
///
/// Every append notifies `id:channel` in its transaction (``ChatNotices``), and appends to one
/// channel commit in id order (an advisory lock per channel). On a notification for a channel
/// with subscribers here, the relay reads the channel's messages after the last id it delivered,
/// in id order, and hands them to the hub: each message reaches each socket once, in order,
/// whichever instance it was sent to. A notification that arrives late or twice finds nothing
/// newer; one missed while the listener was away is made up by ``recover()``, which reads every
/// subscribed channel again.
///
/// Session revocations (``SessionRevocations``) and unsubscriptions reach the sockets of every instance
/// the same way. The per-account socket cap is per instance (each instance's hub counts its own
/// sockets): an account may hold that many sockets on each control port.
actor PostgresChatRelay: ChatRelay, BusConsumer {
    let hub: ChatHub
    private let database: PostgresDatabase
    private let bus: PostgresNotificationBus
    private let logger: Logger
    /// Messages read per query.
    private let batch: Int

    /// Per channel with subscribers here: the last id delivered here.
    private var lastDelivered: [String: Int64] = [:]
    /// Per channel with subscribers here: raised each time it gains its first subscriber, so that
    /// a read begun for an earlier set of subscribers does not move the new one's position.
    private var epochs: [String: Int] = [:]
    private var nextEpoch = 0
    /// Channels whose first subscriber is reading where the channel stands.
    private var initializing: Set<String> = []
    /// For a channel whose position could not be read: the lowest id notified since.
    private var floors: [String: Int64] = [:]
    /// Channels with messages perhaps not yet delivered.
    private var pending: Set<String> = []
    private var draining: Set<String> = []

    private init(limits: ControlPortLimits, database: PostgresDatabase, bus: PostgresNotificationBus, batch: Int, logger: Logger) {
        hub = ChatHub(limits: limits)
        self.database = database
        self.bus = bus
        self.batch = batch
        self.logger = logger
    }

    /// A relay on `database`, fed by `bus`, closing the sockets of sessions `revocations` names.
    static func make(
        limits: ControlPortLimits, database: PostgresDatabase, bus: PostgresNotificationBus, revocations: any SessionRevocations,
        batch: Int = 256, logger: Logger = Logger(label: "arbiter.chat")
    ) -> PostgresChatRelay {
        let relay = PostgresChatRelay(limits: limits, database: database, bus: bus, batch: batch, logger: logger)
        bus.subscribe(relay, to: [.chatMessage, .unsubscribed])
        revocations.observe { notice in await relay.revocationNotice(notice) }
        return relay
    }

    // MARK: Sockets (this instance's)

    func register(_ connection: UUID, player: Int64, session: Int64, outbox: ChatOutbox) async -> Bool {
        await hub.register(connection, player: player, session: session, outbox: outbox)
    }

    func remove(_ connection: UUID) async {
        await hub.remove(connection)
        await forgetUnsubscribedChannels()
    }

    func join(_ connection: UUID, channel: String, label: String) async {
        guard await hub.subscribe(connection, to: channel, label: label) else { return }
        // The channel's first subscriber here: it hears what commits from now on. Messages that
        // commit while this reads are either counted in the position or delivered after it.
        nextEpoch += 1
        let epoch = nextEpoch
        epochs[channel] = epoch
        lastDelivered[channel] = nil
        floors[channel] = nil
        initializing.insert(channel)
        let position: Int64?
        do {
            position = try await latestID(in: channel)
        } catch {
            logger.error("could not read a chat channel's position", metadata: ["channel": "\(channel)", "error": "\(PostgresDatabase.reason(error))"])
            position = nil
        }
        guard epochs[channel] == epoch else { return }
        initializing.remove(channel)
        // Without a position, the first notification sets it (see ``drain(_:)``).
        if let position { lastDelivered[channel] = position }
        if pending.contains(channel) { startDraining(channel) }
    }

    func leave(_ connection: UUID, channel: String) async {
        await hub.leave(connection, channel: channel)
        await forgetUnsubscribedChannels()
    }

    func isJoined(_ connection: UUID, channel: String) async -> Bool { await hub.isJoined(connection, channel: channel) }

    var socketCount: Int { get async { await hub.socketCount } }

    func subscriberCount(_ channel: String) async -> Int { await hub.subscriberCount(channel) }

    // MARK: Across instances

    /// Ends the session's sockets here; the other instances close theirs when they hear the
    /// session's revocation (``SessionRevocations``), which the caller announces.
    func endSession(_ session: Int64) async {
        await hub.endSession(session)
    }

    /// Unsubscribes the player's sockets here at once, and on the other instances through the bus.
    func unsubscribe(player: Int64, from channel: String, reason: String) async {
        await hub.unsubscribe(player: player, from: channel, reason: reason)
        await forgetUnsubscribedChannels()
        guard let body = ChatNotices.body(.init(player: player, channel: channel, reason: reason)),
            body.utf8.count <= PostgresNotificationBus.maximumBodyBytes
        else { return }
        do {
            try await bus.publish(.unsubscribed, body)
        } catch {
            logger.error("could not tell the other control ports of an unsubscription", metadata: ["error": "\(PostgresDatabase.reason(error))"])
        }
    }

    /// A stored message: delivered from the table, with whatever else is new in its channel.
    func broadcast(_ message: ChatMessage, channel: String) async {
        stored(id: message.id, in: channel)
    }

    func receive(_ topic: BusTopic, _ body: Substring) async {
        switch topic {
        case .chatMessage:
            guard let (id, channel) = ChatNotices.stored(in: body) else {
                logger.warning("ignored a malformed chat notification", metadata: ["body": "\(body.prefix(64))"])
                return
            }
            stored(id: id, in: channel)
        case .unsubscribed:
            guard let unsubscription = ChatNotices.unsubscription(in: body) else {
                logger.warning("ignored a malformed unsubscription", metadata: ["body": "\(body.prefix(64))"])
                return
            }
            await hub.unsubscribe(player: unsubscription.player, from: unsubscription.channel, reason: unsubscription.reason)
            await forgetUnsubscribedChannels()
        case .boards, .sessionRevoked:
            break
        }
    }

    /// Notifications may have been missed: every subscribed channel is read again from where it
    /// was delivered to. (An unsubscription missed this way is not recovered: the socket stays in
    /// the channel until it leaves or reconnects.)
    func recover() async {
        for channel in lastDelivered.keys {
            pending.insert(channel)
            startDraining(channel)
        }
    }

    private func revocationNotice(_ notice: SessionRevocationNotice) async {
        switch notice {
        case .revoked(.sessions(let sessions)):
            for session in sessions { await hub.endSession(session) }
        case .revoked(.player):
            break
        case .mayHaveMissed:
            let held = await hub.sessionIDs
            guard !held.isEmpty else { return }
            do {
                let live = try await liveSessions(among: held)
                for session in held.subtracting(live) { await hub.endSession(session) }
            } catch {
                logger.error("could not check the chat sockets' sessions", metadata: ["error": "\(PostgresDatabase.reason(error))"])
            }
        }
    }

    // MARK: Delivery

    private func stored(id: Int64, in channel: String) {
        guard epochs[channel] != nil else { return }
        if let delivered = lastDelivered[channel], id <= delivered { return }
        pending.insert(channel)
        if lastDelivered[channel] == nil { floors[channel] = min(floors[channel] ?? id, id) }
        startDraining(channel)
    }

    private func startDraining(_ channel: String) {
        guard !draining.contains(channel) else { return }
        draining.insert(channel)
        Task { await self.drain(channel) }
    }

    /// Delivers the channel's messages after the last delivered, in id order, until nothing is
    /// pending. One drain per channel runs at a time.
    private func drain(_ channel: String) async {
        defer { draining.remove(channel) }
        while pending.contains(channel) {
            // A first subscriber reading the channel's position drains once it has it.
            guard !initializing.contains(channel), let epoch = epochs[channel] else { return }
            guard await hub.subscriberCount(channel) > 0 else {
                if epochs[channel] == epoch { forget(channel) }
                return
            }
            guard epochs[channel] == epoch else { continue }
            if lastDelivered[channel] == nil, let floor = floors.removeValue(forKey: channel) { lastDelivered[channel] = floor - 1 }
            guard var after = lastDelivered[channel] else {
                pending.remove(channel)
                return
            }
            pending.remove(channel)
            do {
                while true {
                    let messages = try await self.messages(in: channel, after: after, limit: batch)
                    guard epochs[channel] == epoch else { break }
                    for message in messages { await hub.broadcast(message, channel: channel) }
                    if let last = messages.last {
                        after = last.id
                        if epochs[channel] == epoch { lastDelivered[channel] = after }
                    }
                    if messages.count < batch { break }
                }
            } catch {
                // The next notification, or the next recovery, tries again.
                logger.error("could not read a chat channel's new messages", metadata: ["channel": "\(channel)", "error": "\(PostgresDatabase.reason(error))"])
                return
            }
        }
    }

    private func forget(_ channel: String) {
        lastDelivered[channel] = nil
        epochs[channel] = nil
        floors[channel] = nil
        pending.remove(channel)
        initializing.remove(channel)
    }

    /// Drops the positions of channels left without a subscriber here.
    private func forgetUnsubscribedChannels() async {
        guard !epochs.isEmpty else { return }
        let subscribed = await hub.subscribedChannels
        guard epochs.count > subscribed.count else { return }
        for channel in epochs.keys where !subscribed.contains(channel) && !initializing.contains(channel) { forget(channel) }
    }

    // MARK: Queries

    private func latestID(in channel: String) async throws -> Int64 {
        let rows = try await database.rows("SELECT COALESCE(max(id), 0) FROM chat_messages WHERE channel = \(channel)")
        return try rows.first?.decode(Int64.self) ?? 0
    }

    private func messages(in channel: String, after id: Int64, limit: Int) async throws -> [ChatMessage] {
        try await database.rows(
            """
            SELECT m.id, m.sender_id, p.username, m.body, m.created_at FROM chat_messages m JOIN players p ON p.id = m.sender_id
            WHERE m.channel = \(channel) AND m.id > \(id) ORDER BY m.id LIMIT \(limit)
            """
        ).map { row in
            let (id, senderID, senderName, body, sentAt) = try row.decode((Int64, Int64, String, String, Date).self)
            return ChatMessage(id: id, channel: channel, senderID: senderID, senderName: senderName, body: body, sentAt: sentAt)
        }
    }

    private func liveSessions(among sessions: Set<Int64>) async throws -> Set<Int64> {
        let ids = Array(sessions)
        return Set(try await database.rows("SELECT id FROM auth_sessions WHERE id = ANY(\(ids)) AND revoked_at IS NULL").map {
            try $0.decode(Int64.self)
        })
    }
}
