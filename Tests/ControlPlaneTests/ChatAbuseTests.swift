@testable import ControlPlane
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import Synchronization
import Testing

@Suite struct ChatAbuseTests {
    static func decode(_ message: WebSocketMessage) -> [String: Any] {
        guard case .text(let text) = message, let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object
    }


    /// Connects with `token`, sends `commands` one by one (each after the previous reply), runs
    /// `afterCommands`, then (unless `closeAfter`) collects events until the server closes.
    /// Returns the close frame and every event received.
    @discardableResult
    static func session(
        port: Int, token: String, commands: [String] = [], afterCommands: @escaping @Sendable () async throws -> Void = {},
        closeAfter: Bool = false
    ) async throws -> (close: TestWebSocket.Close?, events: [[String: Any]]) {
        // Kept as text (Sendable), decoded at the end.
        let events = Mutex<[String]>([])
        @Sendable func text(_ message: WebSocketMessage) -> String {
            if case .text(let text) = message { return text }
            return ""
        }
        let close = try await TestWebSocket.connect(url: "ws://127.0.0.1:\(port)/v1/chat?token=\(token)") { inbound, outbound in
            var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            for command in commands {
                try await outbound.write(.text(command))
                guard let reply = try await iterator.next() else { return }
                let frame = text(reply)
                events.withLock { $0.append(frame) }
            }
            try await afterCommands()
            if closeAfter {
                try await outbound.close(.normalClosure, reason: nil)
                return
            }
            while let message = try await iterator.next() {
                let frame = text(message)
                events.withLock { $0.append(frame) }
            }
        }
        return (close, events.withLock { $0 }.map { decode(.text($0)) })
    }

    static let joinLobby = #"{"type":"join","channel":"lobby"}"#

    @Test func logoutAndRefreshCloseTheSocketsOfTheirSession() async throws {
        try await withLiveServer { plane, port, client in
            let player = try await client.register("talker")
            let other = try #require(try await client.call(.post, "/v1/sessions", json: ["username": "talker", "password": "correct horse battery"]).string("token"))
            for (token, end) in [(player.token, "logout"), (other, "refresh")] {
                let result = try await Self.session(port: port, token: token, commands: [Self.joinLobby], afterCommands: { () async throws -> Void in
                    if end == "logout" {
                        #expect(try await client.call(.delete, "/v1/sessions/current", token: token).status == .noContent)
                    } else {
                        #expect(try await client.call(.post, "/v1/sessions/refresh", token: token).status == .ok)
                    }
                })
                #expect(result.events.first?["type"] as? String == "joined")
                #expect(result.events.last?["code"] as? String == "session_ended", "\(end): \(result.events)")
                #expect(result.close?.closeCode == .policyViolation, "\(end)")
            }
            try await eventually("the hub forgets both sockets") { await plane.services.chat.socketCount == 0 }
        }
    }

    @Test func aReusedRefreshTokenClosesTheSocketsOfItsFamily() async throws {
        try await withLiveServer { plane, port, client in
            _ = try await client.register("talker")
            let login = try await client.call(.post, "/v1/sessions", json: ["username": "talker", "password": "correct horse battery"])
            let stolen = try #require(login.string("refresh_token"))
            let rotated = try await client.call(.post, "/v1/sessions/refresh", json: ["refresh_token": stolen])
            let access = try #require(rotated.string("token"))
            let result = try await Self.session(port: port, token: access, commands: [Self.joinLobby], afterCommands: { () async throws -> Void in
                let reuse = try await client.call(.post, "/v1/sessions/refresh", json: ["refresh_token": stolen])
                #expect(reuse.errorCode == "refresh_token_reused")
            })
            #expect(result.events.first?["type"] as? String == "joined")
            #expect(result.events.last?["code"] as? String == "session_ended", "\(result.events)")
            #expect(result.close?.closeCode == .policyViolation)
            try await eventually("the hub forgets the socket") { await plane.services.chat.socketCount == 0 }
        }
    }

    @Test func socketsPerAccountAreCapped() async throws {
        var limits = TestControlPlane.testLimits
        limits.chatSocketsPerAccount = 2
        try await withLiveServer(limits: limits) { plane, port, client in
            let player = try await client.register("hoarder")
            let release = Signal()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        let held = try await Self.session(
                            port: port, token: player.token, commands: [Self.joinLobby], afterCommands: { await release.wait() }, closeAfter: true)
                        #expect(held.events.first?["type"] as? String == "joined")
                    }
                }
                try await eventually("two sockets are open") { await plane.services.chat.socketCount == 2 }
                let refused = try await Self.session(port: port, token: player.token)
                #expect(refused.events.first?["code"] as? String == "too_many_connections")
                #expect(refused.close?.closeCode == .policyViolation)
                await release.fire()
                try await group.waitForAll()
            }
            try await eventually("the sockets are gone") { await plane.services.chat.socketCount == 0 }
            // Closed sockets give their places back.
            let again = try await Self.session(port: port, token: player.token, commands: [Self.joinLobby], closeAfter: true)
            #expect(again.events.first?["type"] as? String == "joined")
        }
    }

    @Test func leavingAGameUnsubscribesThePlayersSockets() async throws {
        try await withLiveServer { plane, port, client in
            let owner = try await client.register("owner")
            let member = try await client.register("member")
            let gameID = try #require(try await client.call(.post, "/v1/games", token: owner.token, json: ["name": "Room"]).int("id"))
            let invite = try #require(try await client.call(.post, "/v1/games/\(gameID)/invites", token: owner.token, json: ["username": "member"]).int("id"))
            #expect(try await client.call(.post, "/v1/invites/\(invite)/accept", token: member.token).status == .ok)
            let join = "{\"type\":\"join\",\"channel\":\"game:\(gameID)\"}"
            let result = try await TestWebSocket.connect(url: "ws://127.0.0.1:\(port)/v1/chat?token=\(member.token)") { inbound, outbound in
                var replies = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                func next() async throws -> [String: Any] { try await replies.next().map(Self.decode) ?? [:] }
                try await outbound.write(.text(join))
                #expect(try await next()["type"] as? String == "joined")
                try await outbound.write(.text(Self.joinLobby))
                #expect(try await next()["type"] as? String == "joined")
                #expect(await plane.services.chat.subscriberCount("game:\(gameID)") == 1)
                #expect(try await client.call(.post, "/v1/games/\(gameID)/leave", token: member.token).status == .noContent)
                let left = try await next()
                #expect(left["type"] as? String == "left")
                #expect(left["channel"] as? String == "game:\(gameID)")
                #expect(left["reason"] as? String == "left_game")
                // Off the game's channel, still in the lobby, and no longer allowed back in.
                #expect(await plane.services.chat.subscriberCount("game:\(gameID)") == 0)
                #expect(await plane.services.chat.subscriberCount("lobby") == 1)
                try await outbound.write(.text("{\"type\":\"send\",\"channel\":\"game:\(gameID)\",\"body\":\"still here?\"}"))
                #expect(try await next()["code"] as? String == "forbidden")
                try await outbound.close(.normalClosure, reason: nil)
            }
            #expect(result?.closeCode != .policyViolation)
        }
    }

    @Test func aSocketWhoseOutboxOverflowsIsClosed() async throws {
        var limits = TestControlPlane.testLimits
        limits.chatOutboxBytes = 300
        try await withLiveServer(limits: limits) { plane, port, client in
            let player = try await client.register("reader")
            let body = String(repeating: "x", count: 290)
            let send = "{\"type\":\"send\",\"channel\":\"lobby\",\"body\":\"\(body)\"}"
            // The message, as broadcast, is larger than the whole outbox: it cannot be delivered.
            let result = try await Self.session(port: port, token: player.token, commands: [Self.joinLobby, send])
            #expect(result.events.last?["code"] as? String == "slow_consumer", "\(result.events)")
            #expect(result.close?.closeCode == .policyViolation)
            try await eventually("the hub dropped it") { await plane.services.chat.socketCount == 0 }
        }
    }

    @Test func chatBodiesAreLimitedInUTF8Bytes() async throws {
        try await withLiveServer { _, port, client in
            let player = try await client.register("writer")
            func send(_ body: String) throws -> String {
                let data = try JSONSerialization.data(withJSONObject: ["type": "send", "channel": "lobby", "body": body])
                return String(decoding: data, as: UTF8.self)
            }
            let accepted = String(repeating: "é", count: 250)  // 250 characters, 500 bytes
            let emoji = String(repeating: "😀", count: 126)  // 126 characters, 504 bytes
            let zalgo = "e" + String(repeating: "\u{301}", count: 300)  // one character, 601 bytes
            #expect(zalgo.count == 1)
            let result = try await Self.session(port: port, token: player.token, commands: [Self.joinLobby, try send(accepted), try send(emoji), try send(zalgo)], closeAfter: true)
            #expect(result.events.map { $0["type"] as? String } == ["joined", "message", "error", "error"])
            #expect(result.events.dropFirst(2).allSatisfy { $0["code"] as? String == "invalid_body" })
            #expect(result.events[1]["body"] as? String == accepted)
        }
    }

    @Test func historyKeepsTheNewestMessagesPerChannelAndNothingTooOld() async throws {
        var limits = TestControlPlane.testLimits
        limits.chatMessagesPerChannel = 4
        limits.chatRetentionSeconds = 24 * 3600
        try await withLiveServer(limits: limits) { plane, port, client in
            let player = try await client.register("archivist")
            // Two stale messages, as if sent two days ago.
            try await plane.database.writer.write { db in
                for body in ["ancient 1", "ancient 2"] {
                    var record = ChatMessageRecord(id: nil, channel: "lobby", senderID: player.id, body: body, createdAt: Date().addingTimeInterval(-2 * 24 * 3600))
                    try record.insert(db)
                }
            }
            @Sendable func stored() async throws -> [String] {
                try await plane.database.writer.read { db in
                    try String.fetchAll(db, sql: "SELECT body FROM chat_messages WHERE channel = 'lobby' ORDER BY id")
                }
            }
            func send(_ text: String) -> String { "{\"type\":\"send\",\"channel\":\"lobby\",\"body\":\"\(text)\"}" }
            // Not served even before anything prunes them...
            let before = try await client.call(.get, "/v1/chat/lobby/messages", token: player.token)
            #expect((before["messages"] as? [Any])?.isEmpty == true)
            // ...and deleted by the next message to the channel, though the count is within bounds.
            try await Self.session(port: port, token: player.token, commands: [Self.joinLobby, send("m1")], closeAfter: true)
            #expect(try await stored() == ["m1"])
            // Beyond the count, the oldest go.
            try await Self.session(port: port, token: player.token, commands: [Self.joinLobby] + ["m2", "m3", "m4", "m5"].map(send), closeAfter: true)
            #expect(try await stored() == ["m2", "m3", "m4", "m5"])
            let history = try await client.call(.get, "/v1/chat/lobby/messages", token: player.token)
            #expect((history["messages"] as? [[String: Any]])?.compactMap { $0["body"] as? String } == ["m5", "m4", "m3", "m2"])
        }
    }

    @Test func theJanitorPrunesExpiredMessagesInEveryChannel() async throws {
        var limits = TestControlPlane.testLimits
        limits.chatRetentionSeconds = 24 * 3600
        let plane = try await TestControlPlane(limits: limits)
        let sender = try await plane.application.test(.router) { client in try await client.register("old_timer").id }
        let now = Date()
        try await plane.database.writer.write { db in
            // 25 stale messages across channels nobody writes to any more, then 3 fresh ones.
            for index in 0..<25 {
                var record = ChatMessageRecord(id: nil, channel: "dm:\(index):\(index + 1)", senderID: sender, body: "stale", createdAt: now.addingTimeInterval(-3 * 24 * 3600))
                try record.insert(db)
            }
            for channel in ["lobby", "game:1", "dm:1:2"] {
                var record = ChatMessageRecord(id: nil, channel: channel, senderID: sender, body: "fresh", createdAt: now.addingTimeInterval(-3600))
                try record.insert(db)
            }
        }
        let janitor = ChatJanitor(services: plane.services, logger: Logger(label: "test"))
        #expect(try await janitor.pruneExpired(now: now, batch: 10) == 25)
        let left = try await plane.database.writer.read { db in try String.fetchAll(db, sql: "SELECT body FROM chat_messages") }
        #expect(left == ["fresh", "fresh", "fresh"])
        #expect(try await janitor.pruneExpired(now: now) == 0)
    }

    // MARK: The outbox and the hub, without sockets

    @Test func anOutboxHoldsAtMostItsLimitAndEndsWhenAReaderFallsBehind() async throws {
        let outbox = ChatOutbox(limit: 100)
        let frame = String(repeating: "a", count: 30)
        #expect(outbox.send(frame))
        #expect(outbox.send(frame))
        #expect(outbox.send(frame))
        #expect(outbox.bytesWaiting == 90)
        // The fourth would make 120 bytes: the outbox ends instead of growing, and drops its frames.
        #expect(!outbox.send(frame))
        #expect(outbox.ending == .slowConsumer)
        #expect(outbox.bytesWaiting == 0)
        #expect(await outbox.next() == nil)
        #expect(!outbox.send("late"))

        // A reader that keeps up is never cut off, however much passes through.
        let steady = ChatOutbox(limit: 100)
        let reader = Task { () -> Int in
            var count = 0
            for await _ in steady { count += 1 }
            return count
        }
        for _ in 0..<1000 {
            try await eventually("the reader drained the outbox") { steady.bytesWaiting == 0 }
            #expect(steady.send(frame))
        }
        steady.finish()
        #expect(await reader.value == 1000)
        #expect(steady.ending == nil)
    }

    @Test func theHubDropsASubscriberThatDoesNotRead() async throws {
        let hub = ChatHub(limits: ControlPortLimits(chatOutboxBytes: 2000))
        let slow = ChatOutbox(limit: 2000)
        let fast = ChatOutbox(limit: 2000)
        let slowID = UUID()
        let fastID = UUID()
        #expect(await hub.register(slowID, player: 1, session: 1, outbox: slow))
        #expect(await hub.register(fastID, player: 2, session: 2, outbox: fast))
        await hub.join(slowID, channel: "lobby", label: "lobby")
        await hub.join(fastID, channel: "lobby", label: "lobby")
        var received = 0
        for index in 0..<100 {
            let message = ChatMessage(id: Int64(index), channel: "lobby", senderID: 2, senderName: "fast", body: String(repeating: "b", count: 100), sentAt: Date())
            await hub.broadcast(message, channel: "lobby")
            while fast.bytesWaiting > 0, await fast.next() != nil { received += 1 }
        }
        #expect(received == 100)
        #expect(slow.ending == .slowConsumer)
        #expect(await hub.socketCount == 1)
        #expect(await !hub.isJoined(slowID, channel: "lobby"))
        #expect(await hub.isJoined(fastID, channel: "lobby"))
        #expect(fast.ending == nil)
    }
}
