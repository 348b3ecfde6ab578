import Foundation
import Hummingbird
import HummingbirdWebSocket
import MatchContract
import NetProtocol
import NIOCore
import NIOWebSocket

extension ControlPlaneRoutes {
    /// `GET /v1/play?token=…`: a game connection over WebSocket, for clients that cannot speak
    /// UDP (browsers). The connect token of the join answer authorises it as it would a UDP
    /// connection; then each binary frame carries one channel packet, both ways, exactly the
    /// bytes a netcode payload packet carries after decryption (docs/PROTOCOL.md, "WebSocket
    /// transport"). The upgrade is always accepted: a refusal is a close code (``PlayCloseCode``),
    /// since a browser never sees the status of a failed upgrade.
    func addPlayWebSocket(_ router: Router<ArbiterRequestContext>) {
        let gateway = services.hosting.playGateway
        router.ws("/v1/play") { inbound, outbound, context in
            guard let gateway else {
                try await outbound.close(PlaySocket.errorCode(.noGameServer), reason: PlayCloseCode.noGameServer.description)
                return
            }
            let token = PlaySocket.connectToken(in: context.request)
            let peer = NetAddress(context.requestContext.peerAddress, defaultPort: 0) ?? NetAddress(ipv4: 0, 0, 0, 0, port: 0)
            let session = gateway.open(connectToken: token, peer: peer)
            await PlaySocket.serve(session, inbound: inbound, outbound: outbound, limits: gateway.limits, channel: context.requestContext.channel)
        }
    }

    /// A plain GET of `/v1/play`: 426, as for the chat socket.
    func addPlayUpgradeHint(_ router: Router<ArbiterRequestContext>) {
        router.get("/v1/play") { _, _ -> Response in
            throw APIError(.upgradeRequired, "upgrade_required", "/v1/play is a WebSocket: connect with an Upgrade: websocket request")
        }
    }
}

/// One play socket's two directions, and the bounds its client must keep.
enum PlaySocket {
    /// How long a socket whose session has ended may take to get its close frame out before the
    /// handler stops waiting for it (a client that does not read must not hold the handler).
    static let closeGrace: Duration = .seconds(2)
    /// How long after the upgrade a refusal's close frame waits, if nothing was sent before it.
    /// WebSocket clients on SwiftNIO (swift-websocket 1.6) lose a close frame that arrives in the
    /// same read as the `101` answer, and then hang even after the connection closes; browsers do
    /// not, but a refusal should reach every client.
    static let refusalDelay: Duration = .milliseconds(50)

    /// The token query parameter, decoded; empty when missing or not base64 (refused as
    /// ``PlayCloseCode/badToken`` by the gateway, which counts it).
    static func connectToken(in request: Request) -> [UInt8] {
        guard let text = request.uri.queryParameters.get("token"), text.utf8.count <= 4096 else { return [] }
        // A '+' left unescaped in a query reads as a space; base64 has no spaces.
        return Data(base64Encoded: text.replacingOccurrences(of: " ", with: "+")).map { Array($0) } ?? []
    }

    static func errorCode(_ code: PlayCloseCode) -> WebSocketErrorCode {
        code == .peerClosed ? .normalClosure : WebSocketErrorCode(codeNumber: Int(code.rawValue))
    }

    private enum Side { case writer, reader, grace }

    /// Runs the socket until the session ends, from either side, then sends the close code (unless
    /// the client closed). The writer hands the game worker's packets to the socket; the reader
    /// checks each frame against the bounds and hands it to the session.
    ///
    /// Neither can hold the handler. Once one side is done, the other has ``closeGrace``: the
    /// reader to see the client's answer to our close frame, the writer to get its last frames
    /// and the close frame out. After that the connection itself is closed, which ends a reader
    /// waiting for a client that never speaks again and fails a write stuck behind a client that
    /// does not read. Nothing is cancelled: a cancelled read leaves the WebSocket library's own
    /// close handshake waiting on a stream that no longer delivers.
    static func serve(
        _ session: any PlayStreamSession, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, limits: PlayStreamLimits,
        channel: any Channel
    ) async {
        await withTaskGroup(of: Side.self) { group in
            group.addTask {
                await write(session, to: outbound)
                return .writer
            }
            group.addTask {
                await read(inbound, into: session, limits: limits)
                return .reader
            }
            var running = 2
            var graceStarted = false
            while let side = await group.next() {
                switch side {
                case .writer, .reader:
                    running -= 1
                    if running > 0 && !graceStarted {
                        graceStarted = true
                        group.addTask {
                            try? await Task.sleep(for: closeGrace)
                            return .grace
                        }
                    }
                case .grace:
                    if running > 0 { channel.close(promise: nil) }
                }
                if running == 0 { break }
            }
            // Only the grace timer can be left.
            group.cancelAll()
        }
    }

    /// Writes the session's packets until it ends, then its close code.
    private static func write(_ session: any PlayStreamSession, to outbound: WebSocketOutboundWriter) async {
        let clock = ContinuousClock()
        let upgraded = clock.now
        var sentAny = false
        var frames: [ByteBuffer] = []
        frames.reserveCapacity(8)
        while true {
            frames.removeAll(keepingCapacity: true)
            let end = await session.nextOutbound { bytes in frames.append(ByteBuffer(bytes: bytes)) }
            do {
                for frame in frames { try await outbound.write(.binary(frame)) }
                sentAny = sentAny || !frames.isEmpty
                // After the client's close frame, nothing more is written: the library answered it.
                if let end, end != .peerClosed {
                    if !sentAny { try? await Task.sleep(until: upgraded + refusalDelay, clock: clock) }
                    try await outbound.close(errorCode(end), reason: end.description)
                }
            } catch {
                session.close(.peerClosed)
                return
            }
            if end != nil { return }
        }
    }

    /// Hands the client's frames to the session while they keep the bounds.
    private static func read(_ inbound: WebSocketInboundStream, into session: any PlayStreamSession, limits: PlayStreamLimits) async {
        var allowance = FrameAllowance(perSecond: limits.framesPerSecond, burst: limits.frameBurst)
        let clock = ContinuousClock()
        do {
            for try await frame in inbound {
                guard frame.opcode == .binary, frame.fin else { return session.close(.notBinaryFrame) }
                guard (1...limits.maxFrameBytes).contains(frame.data.readableBytes) else { return session.close(.frameTooLarge) }
                guard allowance.take(at: clock.now) else { return session.close(.rateLimited) }
                frame.data.withUnsafeReadableBytes { session.receive($0) }
            }
        } catch NIOWebSocketError.invalidFrameLength {
            // Beyond the WebSocket layer's own frame limit: it has closed with 1009 already.
            return session.close(.frameTooLarge)
        } catch {}
        session.close(.peerClosed)
    }
}

/// A token bucket of frames: `burst` deep, refilled at `perSecond`.
struct FrameAllowance {
    let perSecond: Double
    let burst: Double
    private var tokens: Double
    private var updated: ContinuousClock.Instant?

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = max(1, burst)
        tokens = max(1, burst)
    }

    mutating func take(at now: ContinuousClock.Instant) -> Bool {
        if let updated {
            let seconds = (now - updated).inSeconds
            tokens = min(burst, tokens + max(0, seconds) * perSecond)
        }
        updated = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
