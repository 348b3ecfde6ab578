@testable import ControlPlane
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A chat client that sends but never reads: the server's writes to it back up until one waits
/// for a writability that never comes (and ignores cancellation). The socket must still be
/// closed and forgotten, not hold its handler, its hub entry and the server's shutdown forever.
@Suite struct ChatSilentReaderTests {
    /// A TCP connection with a small receive buffer that the test never reads from.
    final class SilentSocket: Sendable {
        let descriptor: Int32

        init(port: Int) throws {
            descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
            var small: Int32 = 4096
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(descriptor)
                throw POSIXError(.ECONNREFUSED)
            }
        }

        deinit { close(descriptor) }

        /// Writes all of `bytes` from a thread of its own: a send that blocks (the server not
        /// reading yet) must not hold one of the few cooperative threads the server itself needs.
        /// False once the server has closed the connection.
        func send(_ bytes: [UInt8]) async -> Bool {
            await withCheckedContinuation { continuation in
                let thread = Thread { continuation.resume(returning: self.sendBlocking(bytes)) }
                thread.start()
            }
        }

        private func sendBlocking(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }

        /// A masked client text frame (mask key 0, so the payload goes as is).
        static func textFrame(_ text: String) -> [UInt8] {
            let payload = Array(text.utf8)
            precondition(payload.count < 126)
            return [0x81, 0x80 | UInt8(payload.count), 0, 0, 0, 0] + payload
        }

        /// A masked close frame with code 1000.
        static let closeFrame: [UInt8] = [0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8]

        static func upgrade(port: Int, token: String) -> [UInt8] {
            Array("""
                GET /v1/chat?token=\(token) HTTP/1.1\r
                Host: 127.0.0.1:\(port)\r
                Upgrade: websocket\r
                Connection: Upgrade\r
                Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
                Sec-WebSocket-Version: 13\r
                \r

                """.utf8)
        }
    }

    /// The client closes while the server still has frames for it (the echo of its own message),
    /// and then neither reads nor closes the TCP connection.
    @Test func aClientThatClosesBeforeItsRepliesAreWrittenIsForgotten() async throws {
        try await withLiveServer { plane, port, client in
            let player = try await client.register("hasty")
            let socket = try SilentSocket(port: port)
            let commands = SilentSocket.textFrame(#"{"type":"join","channel":"lobby"}"#)
                + SilentSocket.textFrame(#"{"type":"send","channel":"lobby","body":"bye"}"#) + SilentSocket.closeFrame
            #expect(await socket.send(SilentSocket.upgrade(port: port, token: player.token)))
            try await eventually("the socket is registered") { await plane.services.chat.socketCount == 1 }
            #expect(await socket.send(commands))
            try await eventually("the socket's handler ends", tries: 6000) {
                let offline = await plane.services.presence.online(among: [player.id]).isEmpty
                let sockets = await plane.services.chat.socketCount
                return offline && sockets == 0
            }
            // What it sent before its close was handled all the same.
            let history = try await client.call(.get, "/v1/chat/lobby/messages", token: player.token)
            #expect((history["messages"] as? [[String: Any]])?.compactMap { $0["body"] as? String } == ["bye"])
        }
    }

    @Test func aClientThatNeverReadsIsClosedAndForgotten() async throws {
        var limits = TestControlPlane.testLimits
        // Room for every reply: the outbox never overflows, the writer just blocks.
        limits.chatOutboxBytes = 1 << 26
        try await withLiveServer(limits: limits) { plane, port, client in
            let player = try await client.register("silent")
            let socket = try SilentSocket(port: port)
            #expect(await socket.send(SilentSocket.upgrade(port: port, token: player.token)))
            try await eventually("the socket is registered") { await plane.services.chat.socketCount == 1 }
            #expect(await plane.services.presence.online(among: [player.id]) == [player.id])
            // Each unparseable command earns an error frame: some 20 MB of replies, far more than
            // the kernel's buffers and the channel's hold, so the server's writer blocks.
            let garbage = SilentSocket.textFrame("garbage")
            var batch: [UInt8] = []
            for _ in 0..<1000 { batch += garbage }
            for _ in 0..<200 { #expect(await socket.send(batch)) }
            let hub = try #require(plane.services.chat as? ChatHub)
            try await eventually("replies pile up behind the blocked writer", tries: 6000) { await hub.bytesWaiting > 1 << 20 }
            // The session ends while the writer waits: the socket must close all the same.
            #expect(try await client.call(.delete, "/v1/sessions/current", token: player.token).status == .noContent)
            // The hub lets go at once; the socket's handler (which marks the player offline last)
            // must end too.
            try await eventually("the socket's handler ends", tries: 6000) {
                await plane.services.presence.online(among: [player.id]).isEmpty
            }
            #expect(await plane.services.chat.socketCount == 0)
        }
    }
}
