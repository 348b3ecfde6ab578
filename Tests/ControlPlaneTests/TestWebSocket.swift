import Foundation
import HummingbirdWSClient
import NIOCore
import NIOPosix
import NIOSSL
import NIOWebSocket

/// The tests' WebSocket client: RFC 6455 on a plain SwiftNIO channel, where every step is bounded.
///
/// Not swift-websocket's client: under the parallel test load its connections now and then
/// stopped reading in the middle of a close (data left unread in the socket, the connection in
/// CLOSE-WAIT), so `connect` never returned and the test run hung. Here the handshake is a
/// handler that swaps itself for NIO's frame codec synchronously (no moment where the end of
/// input can be lost), remote half-closure is off (the server closing means the channel closes),
/// and a connection lasts at most `limit` in all: past it the channel is closed, the inbound
/// stream ends, and the test fails on what it did not receive instead of hanging.
enum TestWebSocket {
    struct Close: Sendable {
        let closeCode: WebSocketErrorCode
        let reason: String?
    }

    struct HandshakeFailed: Error, CustomStringConvertible {
        let description: String
    }

    /// Connects to `url` (`ws://host:port/path?query`, or `wss://` over TLS that trusts
    /// `trusting`, a PEM certificate, and checks it names the URL's host), runs `handler`, then
    /// closes (normally, unless the handler or the server already did); returns the server's
    /// close frame, if any.
    @discardableResult
    static func connect(
        url: String, trusting certificate: String? = nil, limit: Duration = .seconds(120),
        handler: @escaping @Sendable (Inbound, Outbound) async throws -> Void
    ) async throws -> Close? {
        guard let parts = URLComponents(string: url), let host = parts.host, let port = parts.port, parts.scheme == "ws" || parts.scheme == "wss"
        else {
            throw HandshakeFailed(description: "not a ws:// or wss:// URL with a port: \(url)")
        }
        let tls: NIOSSLContext? = try parts.scheme == "wss" ? {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let certificate { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate)) }
            return try NIOSSLContext(configuration: configuration)
        }() : nil
        let target = (parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath) + (parts.percentEncodedQuery.map { "?" + $0 } ?? "")
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let request = "GET \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n"
        let (channel, handshake) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: host)) }
                    let handshake = Handshake(request: request, promise: channel.eventLoop.makePromise())
                    try channel.pipeline.syncOperations.addHandler(handshake)
                    let socket = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel)
                    return (socket, handshake.promise.futureResult)
                }
            }
        let deadline = channel.channel.eventLoop.scheduleTask(in: TimeAmount(limit)) { channel.channel.close(promise: nil) }
        defer { deadline.cancel() }
        do {
            try await handshake.get()
        } catch {
            try? await channel.channel.close()
            throw error
        }
        return try await channel.executeThenClose { inbound, outbound in
            let state = Connection(inbound: inbound, outbound: outbound)
            try await handler(Inbound(connection: state), Outbound(connection: state))
            try await state.close(.normalClosure, reason: nil)
            // Until the server's close frame, or the end of the connection.
            while try await state.nextFrame() != nil {}
            return state.received
        }
    }

    /// What the two directions share: the one iterator of the channel's frames (NIO allows one),
    /// and whether either side has closed. Frames are read by one task at a time.
    final class Connection: @unchecked Sendable {
        private let lock = NSLock()
        private var frames: NIOAsyncChannelInboundStream<WebSocketFrame>.AsyncIterator
        private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
        private var sentClose = false
        private var receivedFrame: Close?

        init(inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>) {
            frames = inbound.makeAsyncIterator()
            self.outbound = outbound
        }

        /// The next data frame (pings answered); nil once the server's close frame (answered
        /// with its code, RFC 6455 5.5.1) or the end of the connection has come.
        func nextFrame() async throws -> WebSocketFrame? {
            guard received == nil else { return nil }
            while let frame = try await frames.next() {
                switch frame.opcode {
                case .ping:
                    try await send(.pong, frame.unmaskedData)
                case .pong:
                    continue
                case .connectionClose:
                    receivedClose(frame)
                    try await close(received?.closeCode ?? .normalClosure, reason: nil)
                    return nil
                default:
                    return WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: frame.unmaskedData)
                }
            }
            return nil
        }

        var received: Close? { lock.withLock { receivedFrame } }

        func send(_ opcode: WebSocketOpcode, _ data: ByteBuffer) async throws {
            guard !lock.withLock({ sentClose }) else { return }
            try await outbound.write(WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: data))
        }

        func close(_ code: WebSocketErrorCode, reason: String?) async throws {
            guard lock.withLock({ () -> Bool in
                defer { sentClose = true }
                return !sentClose
            }) else { return }
            var data = ByteBuffer()
            data.write(webSocketErrorCode: code)
            if let reason { data.writeString(reason) }
            try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data))
        }

        /// The server's close frame: its code and reason.
        private func receivedClose(_ frame: WebSocketFrame) {
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode() ?? .unknown(1005)
            let reason = data.readString(length: data.readableBytes)
            lock.withLock { receivedFrame = Close(closeCode: code, reason: reason) }
        }
    }

    /// The server's data frames (pings answered, the close frame ending the sequence). Every
    /// iterator reads the one connection: a second picks up where the first stopped.
    struct Inbound: AsyncSequence, Sendable {
        typealias Element = WebSocketFrame
        let connection: Connection

        struct AsyncIterator: AsyncIteratorProtocol {
            let connection: Connection
            mutating func next() async throws -> WebSocketFrame? { try await connection.nextFrame() }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(connection: connection) }

        /// Whole messages (continuation frames joined), at most `maxSize` bytes each.
        func messages(maxSize: Int) -> Messages { Messages(frames: self, maxSize: maxSize) }
    }

    struct Messages: AsyncSequence, Sendable {
        typealias Element = WebSocketMessage
        let frames: Inbound
        let maxSize: Int

        struct TooLarge: Error {}

        struct AsyncIterator: AsyncIteratorProtocol {
            var frames: Inbound.AsyncIterator
            let maxSize: Int

            mutating func next() async throws -> WebSocketMessage? {
                guard let first = try await frames.next() else { return nil }
                var data = first.data
                var last = first
                while !last.fin {
                    guard let more = try await frames.next() else { return nil }
                    var part = more.data
                    data.writeBuffer(&part)
                    guard data.readableBytes <= maxSize else { throw TooLarge() }
                    last = more
                }
                guard data.readableBytes <= maxSize else { throw TooLarge() }
                return first.opcode == .binary ? .binary(data) : .text(String(buffer: data))
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(frames: frames.makeAsyncIterator(), maxSize: maxSize) }
    }

    /// Sends text or binary messages (masked, as a client must), and the close frame.
    struct Outbound: Sendable {
        let connection: Connection

        func write(_ message: WebSocketMessage) async throws {
            switch message {
            case .text(let text): try await connection.send(.text, ByteBuffer(string: text))
            case .binary(let data): try await connection.send(.binary, data)
            }
        }

        func close(_ code: WebSocketErrorCode, reason: String?) async throws {
            try await connection.close(code, reason: reason)
        }
    }

    /// Writes the upgrade request, reads the answer up to its blank line, and on a `101` puts
    /// NIO's frame codec in its own place, in the same event-loop turn, handing on what came in
    /// behind the answer. Fails its promise on any other answer or if the connection ends first.
    final class Handshake: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let request: String
        let promise: EventLoopPromise<Void>
        private var answer = ByteBuffer()
        private var done = false

        init(request: String, promise: EventLoopPromise<Void>) {
            self.request = request
            self.promise = promise
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            guard !done else { return context.fireChannelRead(data) }
            answer.writeBuffer(&bytes)
            let view = answer.readableBytesView
            guard let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else {
                if answer.readableBytes > 16 * 1024 { fail(context, "an answer without an end of headers") }
                return
            }
            let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
            guard head.hasPrefix("HTTP/1.1 101") else { return fail(context, head.split(separator: "\r\n").first.map(String.init) ?? head) }
            done = true
            answer.moveReaderIndex(to: end.upperBound)
            let rest = answer
            do {
                try context.pipeline.syncOperations.addHandler(WebSocketFrameEncoder(), position: .after(self))
                try context.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)), position: .after(self))
            } catch {
                return fail(context, "cannot install the frame codec: \(error)")
            }
            promise.succeed()
            if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !done { promise.fail(HandshakeFailed(description: "the connection closed before the upgrade answer")) }
            done = true
            context.fireChannelInactive()
        }

        func handlerRemoved(context: ChannelHandlerContext) {
            if !done { promise.fail(HandshakeFailed(description: "removed before the upgrade answer")) }
            done = true
        }

        private func fail(_ context: ChannelHandlerContext, _ why: String) {
            done = true
            promise.fail(HandshakeFailed(description: "upgrade refused: \(why)"))
            context.close(promise: nil)
        }
    }
}
