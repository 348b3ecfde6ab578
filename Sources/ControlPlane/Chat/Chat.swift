import Foundation
import GRDB
import Hummingbird
import HummingbirdWebSocket
import Logging

/// Relays chat between WebSocket connections and persists every message.
public actor ChatHub {
    struct Subscriber {
        let playerID: Int64
        /// The name the subscriber joined the channel by ("dm:42" for them is "dm:7" for 42).
        let label: String
        let outbox: AsyncStream<String>.Continuation
    }

    private var channels: [String: [UUID: Subscriber]] = [:]
    private var joined: [UUID: Set<String>] = [:]

    func join(_ connection: UUID, player: Int64, channel: String, label: String, outbox: AsyncStream<String>.Continuation) {
        channels[channel, default: [:]][connection] = Subscriber(playerID: player, label: label, outbox: outbox)
        joined[connection, default: []].insert(channel)
    }

    func leave(_ connection: UUID, channel: String) {
        channels[channel]?.removeValue(forKey: connection)
        if channels[channel]?.isEmpty == true { channels.removeValue(forKey: channel) }
        joined[connection]?.remove(channel)
    }

    func leaveAll(_ connection: UUID) {
        for channel in joined[connection] ?? [] { leave(connection, channel: channel) }
        joined.removeValue(forKey: connection)
    }

    func isJoined(_ connection: UUID, channel: String) -> Bool { joined[connection]?.contains(channel) == true }

    /// Sends `message` to every subscriber of `channel`, labelled as each of them knows it.
    func broadcast(_ message: ChatMessage, channel: String) {
        for subscriber in channels[channel]?.values ?? [:].values {
            var copy = message
            copy.channel = subscriber.label
            if let text = ChatWire.encode(copy) { subscriber.outbox.yield(text) }
        }
    }
}

/// A chat message as clients see it.
struct ChatMessage: Codable, Sendable {
    var type = "message"
    var id: Int64
    var channel: String
    var senderID: Int64
    var senderName: String
    var body: String
    var sentAt: Date
}

struct ChatHistory: ResponseEncodable {
    var messages: [ChatMessage]
    var nextBefore: Int64?
}

/// What a client sends over the socket.
struct ChatCommand: Decodable {
    var type: String
    var channel: String?
    var body: String?
}

enum ChatWire {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static func encode(_ value: some Encodable) -> String? {
        (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
    }

    static func event(_ type: String, channel: String) -> String {
        encode(["type": type, "channel": channel]) ?? ""
    }

    static func error(_ code: String, _ message: String) -> String {
        encode(["type": "error", "code": code, "message": message]) ?? ""
    }
}

/// Channel names and who may use them: `lobby` (everyone), `game:{id}` (that game's members
/// and creator), `dm:{player}` (a direct conversation with that player).
struct ChatChannels: Sendable {
    let database: AppDatabase

    /// The canonical (stored) name for `label` as used by `player`, or an error.
    func resolve(_ label: String, for player: Int64) async throws -> String {
        if label == "lobby" { return "lobby" }
        if label.hasPrefix("game:"), let id = Int64(label.dropFirst(5)), id > 0 {
            let allowed = try await database.writer.read { db -> Bool? in
                guard let game = try GameRecord.fetchOne(db, key: id) else { return nil }
                if game.createdBy == player { return true }
                return try GameMemberRecord.exists(db, key: ["game_id": id, "player_id": player])
            }
            guard let allowed else { throw APIError.notFound("chat channel") }
            guard allowed else { throw APIError.forbidden("only the game's members may use its channel") }
            return "game:\(id)"
        }
        if label.hasPrefix("dm:"), let other = Int64(label.dropFirst(3)), other > 0, other != player {
            guard try await database.writer.read({ db in try PlayerRecord.exists(db, key: other) }) else { throw APIError.notFound("player") }
            return "dm:\(min(player, other)):\(max(player, other))"
        }
        throw APIError.notFound("chat channel")
    }

    /// The label the other side of a DM sees.
    static func label(for canonical: String, viewer: Int64) -> String {
        guard canonical.hasPrefix("dm:") else { return canonical }
        let ids = canonical.dropFirst(3).split(separator: ":").compactMap { Int64($0) }
        guard ids.count == 2 else { return canonical }
        return "dm:\(ids[0] == viewer ? ids[1] : ids[0])"
    }
}

extension ControlPlaneRoutes {
    static let maxChatCharacters = 500

    /// The history route on the HTTP router, and a plain `GET /v1/chat` that answers 401 without
    /// a session and 426 (upgrade required) with one.
    func addChatRoutes(_ group: RouterGroup<ArbiterRequestContext>) {
        let database = services.database
        let channels = ChatChannels(database: database)

        group.get("/v1/chat/:channel/messages") { request, context -> ChatHistory in
            let me = try context.requireIdentity().playerID
            guard let label = context.parameters.get("channel") else { throw APIError.notFound("chat channel") }
            let canonical = try await channels.resolve(label, for: me)
            let limit = try request.queryInt("limit", default: 50, range: 1...200)
            var before = Int64.max
            if let text = request.uri.queryParameters.get("before") {
                guard let value = Int64(text), value > 0 else { throw APIError.badRequest("before must be a message id", code: "invalid_query") }
                before = value
            }
            // Rows become Sendable values inside the read, so the asynchronous read is the one used.
            let messages = try await database.writer.read { [before] db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT m.id, m.sender_id, p.username, m.body, m.created_at FROM chat_messages m JOIN players p ON p.id = m.sender_id
                        WHERE m.channel = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?
                        """, arguments: [canonical, before, limit]
                ).map {
                    ChatMessage(id: $0["id"], channel: label, senderID: $0["sender_id"], senderName: $0["username"], body: $0["body"], sentAt: $0["created_at"])
                }
            }
            return ChatHistory(messages: messages, nextBefore: messages.count == limit ? messages.last?.id : nil)
        }
        group.get("/v1/chat") { _, context -> Response in
            _ = try context.requireIdentity()
            throw APIError(.upgradeRequired, "upgrade_required", "/v1/chat is a WebSocket: connect with an Upgrade: websocket request")
        }
    }

    /// The WebSocket route. The upgrade is always accepted: a missing or bad session gets an
    /// `unauthorized` error frame and a close with code 1008 (policy violation), since an HTTP
    /// status cannot be sent once the upgrade is under way.
    func addChatWebSocket(_ router: Router<ArbiterRequestContext>) {
        let database = services.database
        let hub = services.chat
        let presence = services.presence
        let accounts = services.accounts
        let limiter = chatLimiter
        let channels = ChatChannels(database: database)
        router.ws("/v1/chat") { inbound, outbound, context in
            let token = AuthMiddleware.token(in: context.request, allowQuery: true)
            guard let token, let identity = try? await accounts.identity(forToken: token) else {
                try await outbound.write(.text(ChatWire.error("unauthorized", "a valid session token is required (?token= or Authorization: Bearer)")))
                try await outbound.close(.policyViolation, reason: "unauthorized")
                return
            }
            let me = identity.playerID
            let connection = UUID()
            let (stream, outbox) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(256))
            await presence.connected(me)
            defer {
                outbox.finish()
                Task {
                    await hub.leaveAll(connection)
                    await presence.disconnected(me)
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await text in stream { try await outbound.write(.text(text)) }
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: 16 * 1024) {
                        guard case .text(let text) = message else {
                            outbox.yield(ChatWire.error("unsupported", "send JSON text frames"))
                            continue
                        }
                        await Self.handleChatCommand(
                            text, player: identity, connection: connection, outbox: outbox, hub: hub, channels: channels,
                            limiter: limiter, database: database)
                    }
                    outbox.finish()
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    static func handleChatCommand(
        _ text: String, player identity: Identity, connection: UUID, outbox: AsyncStream<String>.Continuation, hub: ChatHub,
        channels: ChatChannels, limiter: RateLimiter, database: AppDatabase
    ) async {
        let me = identity.playerID
        guard let data = text.data(using: .utf8), let command = try? JSONDecoder().decode(ChatCommand.self, from: data) else {
            outbox.yield(ChatWire.error("invalid_command", "expected {\"type\": \"join\"|\"leave\"|\"send\", ...}"))
            return
        }
        guard let label = command.channel else {
            outbox.yield(ChatWire.error("invalid_command", "channel is required"))
            return
        }
        let canonical: String
        do {
            canonical = try await channels.resolve(label, for: me)
        } catch let error as APIError {
            outbox.yield(ChatWire.error(error.code, error.message))
            return
        } catch {
            outbox.yield(ChatWire.error("internal", "could not check the channel"))
            return
        }
        switch command.type {
        case "join":
            await hub.join(connection, player: me, channel: canonical, label: label, outbox: outbox)
            outbox.yield(ChatWire.event("joined", channel: label))
        case "leave":
            await hub.leave(connection, channel: canonical)
            outbox.yield(ChatWire.event("left", channel: label))
        case "send":
            guard await hub.isJoined(connection, channel: canonical) else {
                outbox.yield(ChatWire.error("not_joined", "join \(label) before sending to it"))
                return
            }
            let body = command.body ?? ""
            guard !body.isEmpty, body.count <= maxChatCharacters else {
                outbox.yield(ChatWire.error("invalid_body", "messages are 1 to \(maxChatCharacters) characters"))
                return
            }
            if let wait = await limiter.take("chat:\(me)") {
                outbox.yield(ChatWire.error("rate_limited", String(format: "slow down; retry in %.1f s", wait)))
                return
            }
            do {
                let record = try await database.writer.write { db -> ChatMessageRecord in
                    var record = ChatMessageRecord(id: nil, channel: canonical, senderID: me, body: body, createdAt: Date())
                    try record.insert(db)
                    return record
                }
                let message = ChatMessage(id: record.id ?? 0, channel: canonical, senderID: me, senderName: identity.username, body: body, sentAt: record.createdAt)
                await hub.broadcast(message, channel: canonical)
                ControlPlaneMetrics.chatMessages.increment()
            } catch {
                outbox.yield(ChatWire.error("internal", "the message could not be stored"))
            }
        default:
            outbox.yield(ChatWire.error("invalid_command", "unknown type '\(command.type)'"))
        }
    }
}
