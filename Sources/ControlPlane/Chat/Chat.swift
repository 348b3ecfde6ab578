import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// The frames waiting to be written to one chat socket, bounded in bytes. A reader that falls
/// so far behind that a frame would take the outbox over its limit is not buffered for: the
/// outbox drops what it holds and ends with ``Ending/slowConsumer``, and the socket is closed.
/// One task reads it (the socket's writer); any task may send.
final class ChatOutbox: AsyncSequence, Sendable {
    typealias Element = String

    /// Why the socket is being closed by the server.
    struct Ending: Sendable, Equatable {
        let code: String
        let message: String

        static let sessionEnded = Ending(code: "session_ended", message: "the session this socket authenticated with has ended")
        static let slowConsumer = Ending(code: "slow_consumer", message: "the socket did not read its messages fast enough")
    }

    private struct State {
        var frames: [String] = []
        var head = 0
        var bytes = 0
        var finished = false
        var ending: Ending?
        var reader: CheckedContinuation<String?, Never>?
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The most bytes (UTF-8) that may wait.
    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) { self.limit = limit }

    /// Bytes waiting now.
    var bytesWaiting: Int { state.withLock { $0.bytes } }
    /// Why the server ended the outbox, if it did.
    var ending: Ending? { state.withLock { $0.ending } }

    /// Queues `text`. False when the outbox has ended, or ends now because `text` would take it
    /// over its limit (a frame larger than the whole limit never fits, even in an empty outbox).
    @discardableResult
    func send(_ text: String) -> Bool {
        let size = text.utf8.count
        enum Action {
            case none
            case hand(CheckedContinuation<String?, Never>)
            case overflowed(CheckedContinuation<String?, Never>?, [CheckedContinuation<Void, Never>])
            case refused
        }
        let action = state.withLock { state -> Action in
            guard !state.finished else { return .refused }
            if size <= limit, let reader = state.reader {
                // The reader waits only when nothing is queued: the frame goes straight to it.
                state.reader = nil
                return .hand(reader)
            }
            guard state.bytes + size <= limit else {
                state.frames = []
                state.head = 0
                state.bytes = 0
                state.finished = true
                state.ending = .slowConsumer
                defer {
                    state.reader = nil
                    state.finishWaiters = []
                }
                return .overflowed(state.reader, state.finishWaiters)
            }
            state.frames.append(text)
            state.bytes += size
            return .none
        }
        switch action {
        case .none: return true
        case .hand(let reader):
            reader.resume(returning: text)
            return true
        case .overflowed(let reader, let waiters):
            reader?.resume(returning: nil)
            for waiter in waiters { waiter.resume() }
            return false
        case .refused: return false
        }
    }

    /// Ends the outbox: the reader gets what is queued (nothing, when `ending` is given: the
    /// socket is to be closed now), then the end.
    func finish(_ ending: Ending? = nil) {
        let (reader, waiters) = state.withLock { state -> (CheckedContinuation<String?, Never>?, [CheckedContinuation<Void, Never>]) in
            guard !state.finished else { return (nil, []) }
            state.finished = true
            state.ending = ending
            if ending != nil {
                state.frames = []
                state.head = 0
                state.bytes = 0
            }
            defer {
                state.reader = nil
                state.finishWaiters = []
            }
            return (state.reader, state.finishWaiters)
        }
        reader?.resume(returning: nil)
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the outbox has ended.
    func finished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.finished { return true }
                state.finishWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// The next frame, or nil once the outbox has ended and been drained (or the task is cancelled).
    func next() async -> String? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                enum Step {
                    case frame(String)
                    case end
                    case wait
                }
                let step = state.withLock { state -> Step in
                    if state.head < state.frames.count {
                        let frame = state.frames[state.head]
                        state.head += 1
                        state.bytes -= frame.utf8.count
                        if state.head == state.frames.count {
                            state.frames.removeAll(keepingCapacity: true)
                            state.head = 0
                        } else if state.head >= 64, state.head * 2 >= state.frames.count {
                            state.frames.removeFirst(state.head)
                            state.head = 0
                        }
                        return .frame(frame)
                    }
                    if state.finished || Task.isCancelled { return .end }
                    state.reader = continuation
                    return .wait
                }
                switch step {
                case .frame(let frame): continuation.resume(returning: frame)
                case .end: continuation.resume(returning: nil)
                case .wait: break
                }
            }
        } onCancel: {
            let reader = state.withLock { state -> CheckedContinuation<String?, Never>? in
                defer { state.reader = nil }
                return state.reader
            }
            reader?.resume(returning: nil)
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let outbox: ChatOutbox
        func next() async -> String? { await outbox.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(outbox: self) }
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

    static func event(_ type: String, channel: String, reason: String? = nil) -> String {
        var fields = ["type": type, "channel": channel]
        if let reason { fields["reason"] = reason }
        return encode(fields) ?? ""
    }

    static func error(_ code: String, _ message: String) -> String {
        encode(["type": "error", "code": code, "message": message]) ?? ""
    }
}

/// Channel names and who may use them: `lobby` (everyone), `game:{id}` (that game's members
/// and creator), `dm:{player}` (a direct conversation with that player).
struct ChatChannels: Sendable {
    let games: any GameStore
    let accounts: any AccountStore

    /// The canonical (stored) name for `label` as used by `player`, or an error.
    func resolve(_ label: String, for player: Int64) async throws -> String {
        if label == "lobby" { return "lobby" }
        if label.hasPrefix("game:"), let id = Int64(label.dropFirst(5)), id > 0 {
            // A private game's channel is as invisible as the game: 404, not 403.
            guard let (listing, standing) = try await games.game(id, for: player), GameAccess.isVisible(listing.game, standing, to: player)
            else { throw APIError.notFound("chat channel") }
            guard listing.game.createdBy == player || standing.isMember else {
                throw APIError.forbidden("only the game's members may use its channel")
            }
            return "game:\(id)"
        }
        if label.hasPrefix("dm:"), let other = Int64(label.dropFirst(3)), other > 0, other != player {
            guard try await accounts.account(id: other) != nil else { throw APIError.notFound("player") }
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
    /// The history route on the HTTP router, and a plain `GET /v1/chat` that answers 401 without
    /// a session and 426 (upgrade required) with one.
    func addChatRoutes(_ group: RouterGroup<ArbiterRequestContext>) {
        let store = services.stores.chat
        let channels = ChatChannels(games: services.stores.games, accounts: services.stores.accounts)
        let retention = ChatRetention(limits: services.limits)

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
            let cutoff = retention.cutoff(now: Date())
            let messages = try await store.history(of: canonical, before: before, notBefore: cutoff, limit: limit).map {
                ChatMessage(id: $0.id, channel: label, senderID: $0.senderID, senderName: $0.senderName, body: $0.body, sentAt: $0.sentAt)
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
    /// status cannot be sent once the upgrade is under way. The server closes a socket the same
    /// way (an error frame, then 1008) when its account already has the most sockets allowed
    /// (`too_many_connections`), when its session ends (`session_ended`: logout or refresh) and
    /// when it reads too slowly for its outbox (`slow_consumer`).
    func addChatWebSocket(_ router: Router<ArbiterRequestContext>) {
        let hub = services.chat
        let presence = services.presence
        let accounts = services.accounts
        let limits = services.limits
        let chat = ChatCommandContext(
            hub: hub, channels: ChatChannels(games: services.stores.games, accounts: services.stores.accounts),
            limiter: services.chatMessageLimiter, store: services.stores.chat,
            retention: ChatRetention(limits: limits), maxBodyBytes: limits.chatMessageBytes)
        router.ws("/v1/chat") { inbound, outbound, context in
            let token = AuthMiddleware.token(in: context.request, allowQuery: true)
            guard let token, let identity = try? await accounts.identity(forToken: token) else {
                // See ``PlaySocket/refusalDelay``: a refusal right behind the 101 answer is lost by
                // some clients.
                try? await Task.sleep(for: PlaySocket.refusalDelay)
                try await outbound.write(.text(ChatWire.error("unauthorized", "a valid session token is required (?token= or Authorization: Bearer)")))
                try await outbound.close(.policyViolation, reason: "unauthorized")
                return
            }
            let me = identity.playerID
            let connection = UUID()
            let outbox = ChatOutbox(limit: limits.chatOutboxBytes)
            guard await hub.register(connection, player: me, session: identity.sessionID, outbox: outbox) else {
                try? await Task.sleep(for: PlaySocket.refusalDelay)
                try await outbound.write(.text(ChatWire.error(
                    "too_many_connections", "an account may have at most \(limits.chatSocketsPerAccount) chat sockets open")))
                try await outbound.close(.policyViolation, reason: "too_many_connections")
                return
            }
            // A session revoked between the check above and the registration: close at once.
            if try await accounts.identity(forToken: token) == nil { outbox.finish(.sessionEnded) }
            await presence.connected(me)
            var failure: (any Error)?
            do {
                try await Self.pump(outbox: outbox, to: outbound, channel: context.requestContext.channel) {
                    for try await message in inbound.messages(maxSize: 16 * 1024) {
                        guard case .text(let text) = message else {
                            outbox.send(ChatWire.error("unsupported", "send JSON text frames"))
                            continue
                        }
                        await Self.handleChatCommand(text, player: identity, connection: connection, outbox: outbox, chat)
                    }
                }
            } catch {
                failure = error
            }
            await hub.remove(connection)
            await presence.disconnected(me)
            if let failure { throw failure }
        }
    }

    /// What a socket task runs: `read` (the client's frames) beside a writer of `outbox`, until
    /// both are done. The writer ends once the outbox ends (`read` returning ends it) and has
    /// drained; when the server ended the outbox (an error frame and a close), `read` is cancelled
    /// then. A write that fails (the client closed, or went) does not cut `read` short: what the
    /// client sent before its close is still handled. A writer that waits on a client which
    /// stopped reading ignores cancellation, so two seconds after the outbox ended the connection
    /// is closed, which fails that write and ends `read`: a socket's task never outlives its
    /// client's silence by more than that.
    static func pump(
        outbox: ChatOutbox, to outbound: WebSocketOutboundWriter, channel: any Channel, read: @escaping @Sendable () async throws -> Void
    ) async throws {
        enum Done { case writer, writerFailed, reader, grace }
        try await withThrowingTaskGroup(of: Done.self) { group in
            group.addTask {
                do {
                    for await text in outbox { try await outbound.write(.text(text)) }
                    if let ending = outbox.ending {
                        try await outbound.write(.text(ChatWire.error(ending.code, ending.message)))
                        try await outbound.close(.policyViolation, reason: ending.code)
                    }
                    return .writer
                } catch {
                    outbox.finish()
                    return .writerFailed
                }
            }
            group.addTask {
                try await read()
                outbox.finish()
                return .reader
            }
            group.addTask {
                await outbox.finished()
                try await Task.sleep(for: .seconds(2))
                return .grace
            }
            var writing = true
            var reading = true
            while let done = try await group.next() {
                switch done {
                case .writer:
                    group.cancelAll()
                    return
                case .writerFailed:
                    writing = false
                case .reader:
                    reading = false
                case .grace:
                    channel.close(promise: nil)
                    group.cancelAll()
                    return
                }
                if !writing && !reading {
                    group.cancelAll()
                    return
                }
            }
        }
    }

    static func handleChatCommand(_ text: String, player identity: Identity, connection: UUID, outbox: ChatOutbox, _ chat: ChatCommandContext) async {
        let me = identity.playerID
        guard let data = text.data(using: .utf8), let command = try? JSONDecoder().decode(ChatCommand.self, from: data) else {
            outbox.send(ChatWire.error("invalid_command", "expected {\"type\": \"join\"|\"leave\"|\"send\", ...}"))
            return
        }
        guard let label = command.channel else {
            outbox.send(ChatWire.error("invalid_command", "channel is required"))
            return
        }
        let canonical: String
        do {
            canonical = try await chat.channels.resolve(label, for: me)
        } catch let error as APIError {
            outbox.send(ChatWire.error(error.code, error.message))
            return
        } catch {
            outbox.send(ChatWire.error("internal", "could not check the channel"))
            return
        }
        switch command.type {
        case "join":
            await chat.hub.join(connection, channel: canonical, label: label)
            outbox.send(ChatWire.event("joined", channel: label))
        case "leave":
            await chat.hub.leave(connection, channel: canonical)
            outbox.send(ChatWire.event("left", channel: label))
        case "send":
            guard await chat.hub.isJoined(connection, channel: canonical) else {
                outbox.send(ChatWire.error("not_joined", "join \(label) before sending to it"))
                return
            }
            let body = command.body ?? ""
            guard !body.isEmpty, body.utf8.count <= chat.maxBodyBytes else {
                outbox.send(ChatWire.error("invalid_body", "messages are 1 to \(chat.maxBodyBytes) bytes of UTF-8"))
                return
            }
            if let wait = await chat.limiter.take("chat:\(me)") {
                outbox.send(ChatWire.error("rate_limited", String(format: "slow down; retry in %.1f s", wait)))
                return
            }
            do {
                let now = Date()
                let id = try await chat.store.append(channel: canonical, sender: me, body: body, at: now, retention: chat.retention)
                let message = ChatMessage(id: id, channel: canonical, senderID: me, senderName: identity.username, body: body, sentAt: now)
                await chat.hub.broadcast(message, channel: canonical)
                ControlPlaneMetrics.chatMessages.increment()
            } catch {
                outbox.send(ChatWire.error("internal", "the message could not be stored"))
            }
        default:
            outbox.send(ChatWire.error("invalid_command", "unknown type '\(command.type)'"))
        }
    }
}

/// What a chat command handler needs.
struct ChatCommandContext: Sendable {
    let hub: any ChatRelay
    let channels: ChatChannels
    let limiter: any RateLimiting
    let store: any ChatStore
    let retention: ChatRetention
    let maxBodyBytes: Int
}
