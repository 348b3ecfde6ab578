import ControlPlane
import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import Synchronization
import Testing

/// A one-shot signal between tasks.
actor Signal {
    private var fired = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func fire() {
        fired = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }

    func wait() async {
        if fired { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}

@Suite struct ChatTests {
    func decode(_ message: WebSocketMessage) -> [String: Any] {
        guard case .text(let text) = message, let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object
    }


    @Test func twoClientsChatInTheLobbyAndHistoryIsKept() async throws {
        try await withLiveServer { _, port, client in
            let alice = try await client.register("alice")
            let bob = try await client.register("bob")
            let bobJoined = Signal()
            let received = Signal()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await TestWebSocket.connect(url: "ws://127.0.0.1:\(port)/v1/chat?token=\(bob.token)") { inbound, outbound in
                        try await outbound.write(.text(#"{"type":"join","channel":"lobby"}"#))
                        for try await message in inbound.messages(maxSize: 1 << 16) {
                            let event = self.decode(message)
                            if event["type"] as? String == "joined" { await bobJoined.fire() }
                            if event["type"] as? String == "message" {
                                #expect(event["body"] as? String == "hello, bob")
                                #expect(event["sender_name"] as? String == "alice")
                                #expect(event["channel"] as? String == "lobby")
                                await received.fire()
                                try await outbound.close(.normalClosure, reason: nil)
                                return
                            }
                        }
                    }
                }
                group.addTask {
                    try await TestWebSocket.connect(url: "ws://127.0.0.1:\(port)/v1/chat?token=\(alice.token)") { inbound, outbound in
                        try await outbound.write(.text(#"{"type":"join","channel":"lobby"}"#))
                        await bobJoined.wait()
                        try await outbound.write(.text(#"{"type":"send","channel":"lobby","body":"hello, bob"}"#))
                        await received.wait()
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                }
                try await group.waitForAll()
            }
            let history = try await client.call(.get, "/v1/chat/lobby/messages", token: bob.token)
            let messages = try #require(history["messages"] as? [[String: Any]])
            #expect(messages.map { $0["body"] as? String } == ["hello, bob"])
        }
    }

    @Test func channelRulesLengthAndRateLimits() async throws {
        // A burst of 10, then one message an hour: however slowly this machine sends, the 11th
        // is refused (the default 5 a second would refill on a loaded machine).
        var limits = TestControlPlane.testLimits
        limits.chatMessagesPerPlayer = .init(rate: 1.0 / 3600, burst: 10)
        try await withLiveServer(limits: limits) { _, port, client in
            let owner = try await client.register("owner")
            let outsider = try await client.register("outsider")
            let game = try await client.call(.post, "/v1/games", token: owner.token, json: ["name": "Members only"])
            let gameID = game.int("id") ?? 0
            #expect(try await client.call(.get, "/v1/chat/game:\(gameID)/messages", token: outsider.token).status == .forbidden)
            #expect(try await client.call(.get, "/v1/chat/game:\(gameID)/messages", token: owner.token).status == .ok)
            #expect(try await client.call(.get, "/v1/chat/nonsense/messages", token: owner.token).status == .notFound)
            #expect(try await client.call(.get, "/v1/chat/lobby/messages").status == .unauthorized)

            try await TestWebSocket.connect(url: "ws://127.0.0.1:\(port)/v1/chat?token=\(outsider.token)") { inbound, outbound in
                var replies = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                func next() async throws -> [String: Any] {
                    guard let message = try await replies.next() else { return [:] }
                    return self.decode(message)
                }
                try await outbound.write(.text("{\"type\":\"join\",\"channel\":\"game:\(gameID)\"}"))
                #expect(try await next()["code"] as? String == "forbidden")
                try await outbound.write(.text(#"{"type":"send","channel":"lobby","body":"not joined"}"#))
                #expect(try await next()["code"] as? String == "not_joined")
                try await outbound.write(.text(#"{"type":"join","channel":"lobby"}"#))
                #expect(try await next()["type"] as? String == "joined")
                let long = String(repeating: "é", count: 501)
                try await outbound.write(.text("{\"type\":\"send\",\"channel\":\"lobby\",\"body\":\"\(long)\"}"))
                #expect(try await next()["code"] as? String == "invalid_body")
                try await outbound.write(.text("garbage"))
                #expect(try await next()["code"] as? String == "invalid_command")
                // Of 20 in a row, the first 10 pass and the rest are refused.
                var codes: [String] = []
                for index in 0..<20 {
                    try await outbound.write(.text("{\"type\":\"send\",\"channel\":\"lobby\",\"body\":\"m\(index)\"}"))
                    let reply = try await next()
                    codes.append(reply["type"] as? String == "message" ? "ok" : (reply["code"] as? String ?? "?"))
                }
                #expect(codes.prefix(10).allSatisfy { $0 == "ok" })
                #expect(codes.dropFirst(10).allSatisfy { $0 == "rate_limited" }, "\(codes)")
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }

    @Test func theChatSocketNeedsASession() async throws {
        try await withLiveServer { _, port, client in
            let firstCode = Mutex<String?>(nil)
            let close = try await TestWebSocket.connect(url: "ws://127.0.0.1:\(port)/v1/chat?token=forged") { inbound, _ in
                for try await message in inbound.messages(maxSize: 1 << 16) {
                    let code = self.decode(message)["code"] as? String
                    firstCode.withLock { if $0 == nil { $0 = code } }
                }
            }
            #expect(firstCode.withLock { $0 } == "unauthorized")
            #expect(close?.closeCode == .policyViolation)
            // A plain GET is told to upgrade, or to authenticate first.
            #expect(try await client.call(.get, "/v1/chat").status == .unauthorized)
            let player = try await client.register("plain")
            #expect(try await client.call(.get, "/v1/chat", token: player.token).status == .upgradeRequired)
            // Query tokens work on the socket only.
            #expect(try await client.call(.get, "/v1/me?token=\(player.token)").status == .unauthorized)
        }
    }
}
