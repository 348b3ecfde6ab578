import ControlPlane
import Foundation
import GameCore
import GameRuntime
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import MatchContract
import NetProtocol
import NIOCore
import NIOWebSocket
import Synchronization
import Testing

/// A control port and an in-process game server (one worker, UDP and WebSocket), on loopback.
struct PlayServer: Sendable {
    let key: SymmetricKey
    let gameAddress: NetAddress
    let gateway: StreamGateway
    let statsBoard: GameServerStatsBoard
    let port: Int
    let gameServer: Task<Void, any Error>
    /// The control port's certificate, when it serves TLS (`wss`).
    var certificate: String? = nil

    /// Stops the game server as `arbiter serve` does on SIGTERM (before the control port).
    func stopGameServer() async throws {
        gameServer.cancel()
        try await gameServer.value
    }

    /// A fresh token from the join route, base64 as the join answer gives it, and the answer.
    func join(_ client: any TestClientProtocol, _ name: String) async throws -> (token: String, reply: Reply) {
        let player = try await client.register(name)
        let game = try await client.call(.post, "/v1/games", token: player.token, json: ["name": "Play \(name)", "is_public": true])
        let reply = try await client.call(.post, "/v1/games/\(game.int("id") ?? 0)/join", token: player.token)
        return (try #require(reply.string("connect_token")), reply)
    }

    /// A token minted here with the server's key (for the cases the join route never hands out).
    func mint(publicAddress: NetAddress? = nil, internalAddress: NetAddress? = nil, nowUnix: UInt64 = UInt64(Date().timeIntervalSince1970)) throws -> String {
        var random = SystemRandomSource()
        let token = try ConnectToken.generate(
            publicAddresses: [publicAddress ?? gameAddress], internalAddresses: [internalAddress ?? publicAddress ?? gameAddress],
            expireSeconds: 60, timeoutSeconds: 10, clientID: UInt64.random(in: 1...1_000_000), protocolID: TestControlPlane.protocolID,
            privateKey: key, nowUnix: nowUnix, random: &random)
        return Data(token.encoded()).base64EncodedString()
    }

    /// Opens `/v1/play` with `token` and runs `body` on the socket; returns how it closed.
    func play(
        _ token: String, _ body: @escaping @Sendable (TestWebSocket.Inbound, TestWebSocket.Outbound) async throws -> Void = { inbound, _ in
            for try await _ in inbound {}
        }
    ) async throws -> TestWebSocket.Close? {
        let escaped = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let url = certificate == nil ? "ws://127.0.0.1:\(port)/v1/play" : "wss://localhost:\(port)/v1/play"
        return try await TestWebSocket.connect(url: url + "?token=\(escaped)", trusting: certificate) {
            inbound, outbound in try await body(inbound, outbound)
        }
    }

    func closes(_ code: PlayCloseCode) -> UInt64 { gateway.stats.closes[code.description] ?? 0 }
}

/// Runs `body` against a live control port and game server; stops the game server afterwards
/// (its WebSocket players are closed with `server_shutdown`) and fails rather than hangs.
func withPlayServer(
    // Deep outbound buffers: a loaded test machine can starve a socket's writer for over a second
    // (64 frames of snapshots), and `too_slow` would end a test about something else. The bound
    // itself is tested in PlayStreamConnectionTests.
    limits: PlayStreamLimits = PlayStreamLimits(outboundFrames: 1 << 14), tls: TestCertificate? = nil,
    _ body: @escaping @Sendable (PlayServer, any TestClientProtocol) async throws -> Void
) async throws {
    var random = SystemRandomSource()
    let key = SymmetricKey(random: &random)
    let bind = NetAddress(ipv4: 127, 0, 0, 1, port: 0)
    let transport = try TransportServer(
        configuration: ServerConfiguration(protocolID: TestControlPlane.protocolID, privateKey: key, serverAddresses: [bind]), bind: bind)
    let gameAddress = transport.socket.localAddress
    let inbox = StreamInbox()
    transport.attachStreams(inbox)
    let gateway = StreamGateway(routes: [.init(address: gameAddress, inbox: inbox)], limits: limits)
    let directory = MatchDirectory()
    let statsBoard = GameServerStatsBoard()
    let handler = GameServerHandler(rules: ArenaRules(), directory: directory, logger: Logger(label: "game"), statsBoard: statsBoard)
    let service = TransportServerService(server: transport, handler: handler)
    let gameServer = Task { try await service.run() }
    let services = try await ControlPlaneServices.make(
        database: try AppDatabase.inMemory(), hosting: DirectoryHost(directory: directory, serverAddress: gameAddress, gateway: gateway),
        minter: TokenMinter(privateKey: key, protocolID: TestControlPlane.protocolID), vault: .random(),
        settings: ControlPlaneSettings(passwordCost: .minimum,
        limits: TestControlPlane.testLimits))
    let app = try makeControlPlaneApplication(
        services: services,
        configuration: ControlPlaneConfiguration(host: "127.0.0.1", port: 0, tlsCertificatePath: tls?.certificate, tlsKeyPath: tls?.key),
        logger: Logger(label: "test"))
    try await app.test(.live) { live in
        let server = PlayServer(
            key: key, gameAddress: gameAddress, gateway: gateway, statsBoard: statsBoard, port: try #require(live.port), gameServer: gameServer,
            certificate: tls?.certificate)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                guard tls != nil else { return try await body(server, live) }
                // The live test client speaks plain HTTP: the HTTP calls go through the same
                // services' router as the TLS control port would answer them; the sockets go to it.
                var routes = ControlPlaneRoutes(services: services)
                routes.servesTLS = true
                try await Application(router: routes.router()).test(.router) { client in try await body(server, client) }
            }
            group.addTask {
                // Generous: refusals wait on client time-outs, which a loaded CI machine stretches.
                try await Task.sleep(for: .seconds(240))
                Issue.record("the play test did not finish")
            }
            try await group.next()
            group.cancelAll()
        }
    }
    gameServer.cancel()
    try await gameServer.value
}

/// A value several tasks share.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result { value.withLock { body(&$0) } }
}

/// A match client over WebSocket: it answers every packet from the server with its input and
/// acknowledgements, so it is paced by the server's ticks (no clock of its own).
final class SocketPlayer: @unchecked Sendable {
    private let lock = NSLock()
    private let session: MatchClientSession<ArenaRules>
    private let clock = SystemClock()

    init() throws { session = try MatchClientSession(rules: ArenaRules(), settings: MatchSettings()) }

    /// Takes one frame from the server; returns the frames to send back.
    func received(_ frame: ByteBuffer) -> [ByteBuffer] {
        lock.withLock {
            let now = clock.monotonicSeconds()
            frame.withUnsafeReadableBytes { session.handlePacket($0, now: now) }
            session.deliverMessages(now: now)
            session.sendInput(ArenaRules.Input(moveX: 20, moveY: 0, aim: 0, buttons: 0), now: now)
            var replies: [ByteBuffer] = []
            session.generatePackets(now: now) { replies.append(ByteBuffer(bytes: $0)) }
            return replies
        }
    }

    /// Entities in the newest snapshot (players: nobody fires).
    var entitiesSeen: Int { lock.withLock { session.simulation.frame(now: clock.monotonicSeconds()).latest.count } }
}

@Suite struct PlayWebSocketTests {
    /// A control port that serves TLS plays over `wss`: the join answer says so, the upgrade
    /// happens inside TLS, and the game's packets flow through it.
    @Test func playOverTLSIsWebSocketSecure() async throws {
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        try await withPlayServer(tls: certificate) { server, client in
            let (token, reply) = try await server.join(client, "secure")
            #expect(reply.string("websocket_url") == "wss://localhost/v1/play")
            let packets = Shared(0)
            let player = try SocketPlayer()
            let close = try await server.play(token) { inbound, outbound in
                for try await frame in inbound {
                    #expect(frame.opcode == .binary)
                    for reply in player.received(frame.data) { try await outbound.write(.binary(reply)) }
                    if packets.withLock({ $0 += 1; return $0 }) >= 10 { break }
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
            #expect(close?.closeCode == .normalClosure)
            #expect(packets.withLock { $0 } >= 10)
            #expect(server.gateway.stats.admitted == 1)
            // A plain connection to the TLS port is no WebSocket.
            await #expect(throws: (any Error).self) {
                try await TestWebSocket.connect(url: "ws://127.0.0.1:\(server.port)/v1/play?token=x", limit: .seconds(10)) { _, _ in }
            }
        }
    }

    @Test func aWebSocketPlayerAndAUDPPlayerPlayInOneMatch() async throws {
        try await withPlayServer { server, client in
            // Given two players of one game: one joins over UDP, one over WebSocket.
            let host = try await client.register("host")
            let game = try await client.call(.post, "/v1/games", token: host.token, json: ["name": "Mixed", "is_public": true])
            let gameID = game.int("id") ?? 0
            let udpJoin = try await client.call(.post, "/v1/games/\(gameID)/join", token: host.token)
            let guest = try await client.register("guest")
            let wsJoin = try await client.call(.post, "/v1/games/\(gameID)/join", token: guest.token)
            // As the client reached the control port: the test client sends `Host: localhost`.
            #expect(wsJoin.string("websocket_url") == "ws://localhost/v1/play")
            #expect(udpJoin.int("match_id") == wsJoin.int("match_id"))
            let udpText = try #require(udpJoin.string("connect_token"))
            let udpToken = Array(try #require(Data(base64Encoded: udpText)))
            let wsToken = try #require(wsJoin.string("connect_token"))

            let bothSee = Shared((udp: false, ws: false))
            let player = try SocketPlayer()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let close = try await server.play(wsToken) { inbound, outbound in
                        for try await frame in inbound {
                            #expect(frame.opcode == .binary)
                            for reply in player.received(frame.data) { try await outbound.write(.binary(reply)) }
                            if player.entitiesSeen >= 2 { bothSee.withLock { $0.ws = true } }
                            if bothSee.withLock({ $0.udp && $0.ws }) { break }
                        }
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                    #expect(close?.closeCode == .normalClosure)
                }
                group.addTask {
                    let transport = try TransportClient()
                    transport.connect(token: try ConnectToken(decoding: udpToken))
                    let session = try MatchClientSession(rules: ArenaRules(), settings: MatchSettings())
                    var polls = 0
                    while polls < 3000 && !bothSee.withLock({ $0.udp && $0.ws }) {
                        polls += 1
                        let now = transport.clock.monotonicSeconds()
                        transport.poll(until: now + 0.005) { session.handlePacket($0, now: now) }
                        guard transport.state == .connected else { continue }
                        session.deliverMessages(now: now)
                        session.sendInput(ArenaRules.Input(moveX: -20, moveY: 0, aim: 0, buttons: 0), now: now)
                        session.generatePackets(now: now) { _ = transport.send(Array($0)) }
                        if session.simulation.frame(now: now).latest.count >= 2 { bothSee.withLock { $0.udp = true } }
                    }
                    transport.disconnect()
                }
                try await group.waitForAll()
            }
            // Then each saw the other in its snapshots, and the socket's close freed its slot.
            #expect(bothSee.withLock { $0.udp && $0.ws })
            #expect(server.gateway.stats.admitted == 1)
            #expect(server.gateway.stats.framesIn > 0 && server.gateway.stats.framesOut > 0)
            var polls = 0
            while server.closes(.peerClosed) < 1 && polls < 500 { polls += 1; try await Task.sleep(for: .milliseconds(10)) }
            #expect(server.closes(.peerClosed) == 1)
            #expect(server.gateway.stats.open == 0)
        }
    }

    @Test func badExpiredAndForeignTokensAreRefusedAndCounted() async throws {
        try await withPlayServer { server, _ in
            let cases: [(String, PlayCloseCode)] = [
                ("", .badToken),
                ("not base64!", .badToken),
                (Data([1, 2, 3]).base64EncodedString(), .badToken),
                (try server.mint(nowUnix: UInt64(Date().timeIntervalSince1970) - 3600), .tokenExpired),
                // Another server's address in the public part, or (sealed) in the private part.
                (try server.mint(publicAddress: NetAddress(ipv4: 127, 0, 0, 1, port: 9)), .wrongServer),
                (try server.mint(internalAddress: NetAddress(ipv4: 127, 0, 0, 1, port: 9)), .wrongServer),
            ]
            for (token, code) in cases {
                let close = try await server.play(token)
                #expect(close?.closeCode == WebSocketErrorCode(codeNumber: Int(code.rawValue)), "\(code)")
            }
            #expect(server.closes(.badToken) == 3)
            #expect(server.closes(.tokenExpired) == 1)
            #expect(server.closes(.wrongServer) == 2)
            #expect(server.gateway.stats.admitted == 0)
        }
    }

    @Test func aTokenOpensOneConnectionWhicheverTransportUsedIt() async throws {
        try await withPlayServer { server, client in
            // A token a UDP client connected with cannot open a WebSocket.
            let (udpToken, _) = try await server.join(client, "udpfirst")
            let transport = try TransportClient()
            transport.connect(token: try ConnectToken(decoding: Array(try #require(Data(base64Encoded: udpToken)))))
            var polls = 0
            while transport.state.isConnecting && polls < 500 {
                transport.poll(until: transport.clock.monotonicSeconds() + 0.01)
                polls += 1
            }
            #expect(transport.state == .connected)
            let afterUDP = try await server.play(udpToken)
            #expect(afterUDP?.closeCode == WebSocketErrorCode(codeNumber: 4002))
            transport.disconnect()

            // A token a WebSocket opened cannot open a second one, nor a UDP connection.
            let (wsToken, _) = try await server.join(client, "wsfirst")
            let opened = Shared(false)
            let first = try await server.play(wsToken) { inbound, outbound in
                for try await _ in inbound {
                    guard !opened.withLock({ $0 }) else { continue }
                    opened.withLock { $0 = true }
                    let second = try await server.play(wsToken)
                    #expect(second?.closeCode == WebSocketErrorCode(codeNumber: 4002))
                    try await outbound.close(.normalClosure, reason: nil)
                }
            }
            #expect(opened.withLock { $0 })
            #expect(first?.closeCode == .normalClosure)
            let replay = try TransportClient()
            replay.connect(token: try ConnectToken(decoding: Array(try #require(Data(base64Encoded: wsToken)))))
            polls = 0
            while (server.statsBoard.current.drops["token_reused_from_other_address"] ?? 0) == 0 && polls < 300 {
                replay.poll(until: replay.clock.monotonicSeconds() + 0.01)
                polls += 1
            }
            #expect(server.statsBoard.current.drops["token_reused_from_other_address"] ?? 0 >= 1)
            #expect(replay.state != .connected)
            #expect(server.closes(.tokenUsed) == 2)
        }
    }

    @Test func framesOutsideTheBoundsCloseTheSocketAndAreCounted() async throws {
        try await withPlayServer(limits: PlayStreamLimits(framesPerSecond: 1, frameBurst: 20, outboundFrames: 1 << 14)) { server, client in
            let (textToken, _) = try await server.join(client, "texter")
            // Each bad frame goes once the match speaks to the socket: under the whole suite's load
            // the server's reader now and then never saw a frame sent right behind the upgrade
            // (play recovers, the channel layer resends; a test of one frame cannot).
            let text = try await server.play(textToken) { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                _ = try await frames.next()
                try await outbound.write(.text("hello"))
                while try await frames.next() != nil {}
            }
            #expect(text?.closeCode == WebSocketErrorCode(codeNumber: 4007))

            let (bigToken, _) = try await server.join(client, "oversized")
            let big = try await server.play(bigToken) { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                _ = try await frames.next()
                try await outbound.write(.binary(ByteBuffer(repeating: 0, count: Netcode.maxPayloadBytes + 1)))
                while try await frames.next() != nil {}
            }
            #expect(big?.closeCode == WebSocketErrorCode(codeNumber: 4006))

            // Valid ack-only channel packets, far faster than 20 at once and 1 a second.
            let (floodToken, _) = try await server.join(client, "flooder")
            let flood = try await server.play(floodToken) { inbound, outbound in
                for sequence in 0..<100 {
                    do {
                        try await outbound.write(.binary(ByteBuffer(bytes: [0, UInt8(sequence & 0xFF), UInt8(sequence >> 8)])))
                    } catch { break }
                }
                for try await _ in inbound {}
            }
            #expect(flood?.closeCode == WebSocketErrorCode(codeNumber: 4008))
            #expect(server.closes(.notBinaryFrame) == 1)
            #expect(server.closes(.frameTooLarge) == 1)
            #expect(server.closes(.rateLimited) == 1)
        }
    }

    @Test func stoppingTheGameServerClosesItsWebSocketPlayers() async throws {
        try await withPlayServer { server, client in
            let (token, _) = try await server.join(client, "stayer")
            let (playing, signal) = AsyncStream<Void>.makeStream()
            async let close = server.play(token) { inbound, _ in
                var signalled = false
                for try await _ in inbound where !signalled {
                    signalled = true
                    signal.yield()
                }
            }
            // While the player plays, the game server stops: it closes the socket, and stops.
            for await _ in playing { break }
            try await server.stopGameServer()
            #expect(try await close?.closeCode == WebSocketErrorCode(codeNumber: 4012))
            #expect(server.closes(.serverShutdown) == 1)
            #expect(server.gateway.stats.open == 0)
            // A socket opened after the stop is refused at once.
            let late = try await server.play(try await server.join(client, "late").token)
            #expect(late?.closeCode == WebSocketErrorCode(codeNumber: 4012))
        }
    }
}

/// `websocket_url` follows how the client reached the control port.
@Suite struct PlayURLTests {
    private func joinURL(_ plane: TestControlPlane, headers: [String: String]) async throws -> String? {
        var routes = ControlPlaneRoutes(services: plane.services)
        routes.servesTLS = headers["tls"] != nil
        let app = Application(router: routes.router())
        return try await app.test(.router) { client in
            let player = try await client.register("urlplayer")
            let game = try await client.call(.post, "/v1/games", token: player.token, json: ["name": "URL"])
            var fields = HTTPFields()
            fields[.authorization] = "Bearer \(player.token)"
            for (name, value) in headers where name != "tls" { fields[HTTPFields.Element.Name(name)!] = value }
            return try await client.execute(uri: "/v1/games/\(game.int("id") ?? 0)/join", method: .post, headers: fields) { response in
                let json = try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                return json?["websocket_url"] as? String
            }
        }
    }

    @Test func theURLFollowsTLSAndTrustedProxiesOnly() async throws {
        // The router tests' peer is "unknown", which the test plane trusts as a proxy.
        let trusting = try await TestControlPlane()
        #expect(try await joinURL(trusting, headers: [:]) == "ws://localhost/v1/play")
        #expect(try await joinURL(try await TestControlPlane(), headers: ["tls": "1"]) == "wss://localhost/v1/play")
        #expect(try await joinURL(try await TestControlPlane(), headers: ["X-Forwarded-Proto": "https", "X-Forwarded-Host": "play.example.com"])
            == "wss://play.example.com/v1/play")
        // A header that would change the URL's shape is not believed.
        #expect(try await joinURL(try await TestControlPlane(), headers: ["X-Forwarded-Host": "evil.example/x?"]) == "ws://localhost/v1/play")
        var limits = TestControlPlane.testLimits
        limits.trustedProxies = []
        let untrusting = try await TestControlPlane(limits: limits)
        #expect(try await joinURL(untrusting, headers: ["X-Forwarded-Proto": "https", "X-Forwarded-Host": "play.example.com"])
            == "ws://localhost/v1/play")
    }

    /// `arbiter serve --play-url`: a path keeps the request's scheme and host, a URL is given as is.
    @Test func aConfiguredEndpointNamesThePathOrTheWholeURL() async throws {
        let behindBalancer = try await TestControlPlane(playEndpoint: .path("/instances/2/v1/play"))
        #expect(try await joinURL(behindBalancer, headers: ["X-Forwarded-Proto": "https", "X-Forwarded-Host": "play.example.com"])
            == "wss://play.example.com/instances/2/v1/play")
        let ownHost = try await TestControlPlane(playEndpoint: .url("wss://game-2.example.com:9443/v1/play"))
        #expect(try await joinURL(ownHost, headers: [:]) == "wss://game-2.example.com:9443/v1/play")
    }

    @Test func endpointsParseOnlyPlainPathsAndWebSocketURLs() throws {
        #expect(try PlayEndpoint(parsing: "/instances/2/v1/play") == .path("/instances/2/v1/play"))
        #expect(try PlayEndpoint(parsing: "ws://10.0.0.5:8080/v1/play") == .url("ws://10.0.0.5:8080/v1/play"))
        #expect(try PlayEndpoint(parsing: "wss://[::1]:8443") == .url("wss://[::1]:8443"))
        for bad in ["", "instances/2", "/a?b=1", "/a#b", "/a%2F", "//evil.example/v1/play", "http://h/v1/play", "wss:///v1/play",
            "wss://user@h/v1/play", "wss://h/v1/play?token=x", "wss://h/v1/play#x", "/" + String(repeating: "a", count: 600)] {
            #expect(throws: PlayEndpoint.ParseError.self, "\(bad)") { try PlayEndpoint(parsing: bad) }
        }
    }
}
