import ArgumentParser
import ControlPlane
import Foundation
import GameCore
import GameRuntime
import Logging
import MatchContract
import Metrics
import NetProtocol
import Prometheus
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Arbiter server: the control port (HTTP/JSON + WebSocket) and the UDP game server.",
        discussion: """
            Keys and the database live in --data-dir: transport.key (the connect-token key, 64 hex \
            digits), email.key (keys for email addresses at rest), arbiter.sqlite. Key files are created \
            with mode 0600 on first start. SIGINT/SIGTERM shut down gracefully.
            """
    )

    @Option(help: "UDP address of the game port.")
    var udp: String = Defaults.udpAddress

    @Option(help: "TCP address of the control port. Without TLS only a loopback address is used unless this names another one.")
    var http: String = "127.0.0.1:8080"

    @Option(name: .customLong("data-dir"), help: "Where keys and the database live.")
    var dataDir: String = Defaults.dataDirectory

    @Option(name: .customLong("protocol-id"), help: "Protocol id, decimal or 0x-hex.")
    var protocolID: String = "0x" + String(Defaults.protocolID, radix: 16)

    @Option(name: .customLong("public-address"), help: "The game port's address as clients reach it, put in tokens (repeatable; the first is used). Default: --udp.")
    var publicAddresses: [String] = []

    @Option(name: .customLong("max-clients"), help: "Most clients connected to the game port at once.")
    var maxClients: Int = 1024

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve the control port over TLS.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("password-cost"), help: "Argon2id cost: interactive (64 MiB, default), or minimum (for load tests only).")
    var passwordCost: String = "interactive"

    @Option(name: .customLong("max-concurrent-hashes"), help: "Password hashes computed at once; more wait.")
    var maxConcurrentHashes: Int = 2

    @Option(name: .customLong("registrations-per-address"), help: "Registrations one client address may make per 10 minutes (also the burst).")
    var registrationsPerAddress: Int = 5

    @Option(name: .customLong("trusted-proxy"), help: "Address of a reverse proxy whose X-Forwarded-For names the client (repeatable; default: none, the header is ignored).")
    var trustedProxies: [String] = []

    @Option(help: "Stop after this many seconds (default: run until interrupted).")
    var seconds: Double?

    @Option(name: .customLong("connection-budget"), help: "Bytes one game connection may make the server hold (queues, reassemblies, history); over it the peer is back-pressured, then disconnected (over_budget).")
    var connectionBudget: Int = GameServerLimits().connectionBudgetBytes

    @Option(name: .customLong("memory-budget"), help: "Bytes all game connections together may hold.")
    var memoryBudget: Int = GameServerLimits().totalBudgetBytes

    @Option(name: .customLong("max-tick-rate"), help: "Highest tick rate a game may choose, 10...240.")
    var maxTickRate: Int = MatchLimits().maxTickRate

    @Option(name: .customLong("max-matches-per-account"), help: "Running matches one account may be in at once.")
    var maxMatchesPerAccount: Int = MatchLimits().maxConcurrentMatchesPerAccount

    @Option(name: .customLong("metrics-token"), help: "Require 'Authorization: Bearer TOKEN' on GET /metrics (default: open). Also ARBITER_METRICS_TOKEN.")
    var metricsToken: String?

    func run() async throws {
        let udpAddress = try parseAddress(udp, option: "--udp")
        guard let httpAddress = NetAddress(http) else { throw ValidationError("--http must be HOST:PORT or [IPv6]:PORT; got '\(http)'") }
        let id = try parseProtocolID(protocolID)
        let extra = try publicAddresses.map { try parseAddress($0, option: "--public-address") }
        guard (1...1_000_000).contains(maxClients) else { throw ValidationError("--max-clients must be 1...1000000") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        let cost: PasswordHasher.Cost
        switch passwordCost {
        case "interactive": cost = .interactive
        case "minimum": cost = .minimum
        default: throw ValidationError("--password-cost must be interactive or minimum")
        }
        guard (1...64).contains(maxConcurrentHashes) else { throw ValidationError("--max-concurrent-hashes must be 1...64") }
        guard (64 * 1024...1 << 30).contains(connectionBudget) else { throw ValidationError("--connection-budget must be 65536...1073741824 bytes") }
        guard memoryBudget >= connectionBudget else { throw ValidationError("--memory-budget must be at least --connection-budget") }
        guard (10...MatchLimits.highestTickRate).contains(maxTickRate) else { throw ValidationError("--max-tick-rate must be 10...\(MatchLimits.highestTickRate)") }
        guard (1...100).contains(maxMatchesPerAccount) else { throw ValidationError("--max-matches-per-account must be 1...100") }
        let metricsToken = metricsToken ?? ProcessInfo.processInfo.environment["ARBITER_METRICS_TOKEN"]
        guard (1...1_000_000).contains(registrationsPerAddress) else { throw ValidationError("--registrations-per-address must be 1...1000000") }
        var limits = ControlPortLimits()
        limits.registrationsPerAddress = .init(rate: Double(registrationsPerAddress) / 600, burst: Double(registrationsPerAddress))
        limits.trustedProxies = Set(trustedProxies)
        lineBufferedOutput()
        // Everything this process creates (database, WAL, keys, outbox) is owner-only.
        umask(0o077)
        if tlsCert == nil && !httpAddress.isLoopback {
            FileHandle.standardError.write(Data(
                "serve: warning: the control port listens on \(httpAddress) without TLS: passwords and session tokens cross the network in the clear (use --tls-cert/--tls-key)\n".utf8))
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "arbiter")
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Tick durations live in the microsecond-to-16-ms range; request latencies wider.
        let tickBuckets: [Duration] = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(4), .milliseconds(8), .milliseconds(16), .milliseconds(33), .milliseconds(100),
        ]
        factory.durationHistogramBuckets["arbiter_tick_duration_seconds"] = tickBuckets
        factory.durationHistogramBuckets["arbiter_tick_phase_duration_seconds"] = tickBuckets
        MetricsSystem.bootstrap(factory)
        let statsBoard = GameServerStatsBoard()

        try DataDirectory.prepare(dataDir)
        let key = try DataDirectory.loadOrCreateTokenKey(in: dataDir)
        let vault = try DataDirectory.loadOrCreateEmailVault(in: dataDir)
        let databasePath = (dataDir as NSString).appendingPathComponent("arbiter.sqlite")
        let database = try AppDatabase.file(at: databasePath)
        DataDirectory.restrict([databasePath, databasePath + "-wal", databasePath + "-shm"])
        let outbox = try ResultsOutbox(directory: (dataDir as NSString).appendingPathComponent("outbox"))

        let clock = SystemClock()
        let directory = MatchDirectory(order: HostedRules.standingsOrder)
        let transport = try TransportServer(
            configuration: ServerConfiguration(protocolID: id, privateKey: key, serverAddresses: [udpAddress] + extra, maxClients: maxClients),
            bind: udpAddress, updateInterval: 0.01, logger: logger)
        let boundUDP = transport.socket.localAddress
        let gameAddress = extra.first ?? boundUDP
        let services = try await ControlPlaneServices.make(
            database: database, hosting: InProcessMatchHost(
                directory: directory, serverAddress: gameAddress, catalog: GameCatalog([HostedRules.catalogEntry]), clock: clock),
            minter: TokenMinter(privateKey: key, protocolID: id), vault: vault, passwordCost: cost,
            maxConcurrentHashes: maxConcurrentHashes,
            observability: Observability(
                metricsText: { registry.emitToString() }, serverStats: { ProcessStats.report(statsBoard.current) }, metricsToken: metricsToken),
            matchLimits: MatchLimits(maxConcurrentMatchesPerAccount: maxMatchesPerAccount, maxTickRate: maxTickRate),
            limits: limits, logger: logger)
        // Reports a previous process could not deliver are stored first; then every session it
        // left running is closed as abandoned (this process's game server runs none of them), so
        // each game is joinable again.
        let forwarder = MatchReportForwarder(directory: directory, recorder: services.recorder, outbox: outbox, retryInterval: .seconds(5), logger: logger)
        let abandoned = try await services.recorder.abandonInterruptedMatches()
        if abandoned > 0 { logger.warning("closed matches a previous run left running", metadata: ["count": "\(abandoned)"]) }
        let gameLimits = GameServerLimits(connectionBudgetBytes: connectionBudget, totalBudgetBytes: memoryBudget)
        let scheme = tlsCert == nil ? "http" : "https"
        let host: String = {
            let text = httpAddress.description
            let colon = text.lastIndex(of: ":") ?? text.endIndex
            return String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        }()
        let application = try makeControlPlaneApplication(
            services: services,
            configuration: ControlPlaneConfiguration(host: host, port: Int(httpAddress.port), tlsCertificatePath: tlsCert, tlsKeyPath: tlsKey),
            logger: logger,
            onServerRunning: { port in
                print("serve: ready udp=\(boundUDP) http=\(scheme)://\(httpAddress.family == .ipv6 ? "[\(host)]" : host):\(port) data=\(dataDir) protocol_id=0x\(String(id, radix: 16))")
            })
        let handler = GameServerHandler(
            rules: HostedRules(), directory: directory, logger: logger, statsBoard: statsBoard, configuration: .init(limits: gameLimits), clock: clock)
        // Shut down in reverse: the game server first (it reports its running matches as
        // abandoned), then the forwarder once those reports are stored, the control port last.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: application),
                    .init(service: forwarder),
                    .init(service: MatchJanitor(recorder: services.recorder, interval: .seconds(30))),
                    .init(service: ChatJanitor(services: services, logger: logger)),
                    .init(service: TransportServerService(server: transport, handler: handler)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        if let seconds {
            Task {
                try await Task.sleep(for: .seconds(seconds))
                await group.triggerGracefulShutdown()
            }
        }
        try await group.run()
        print("serve: stopped")
    }
}

/// The game this executable hosts. A studio hosting its own game builds an executable of its own
/// with its `GameRules` here (see docs/ARCHITECTURE.md, "Hosting your own game").
typealias HostedRules = ArenaRules

/// The data directory's files: created owner-only on first start, read afterwards.
enum DataDirectory {
    /// Creates the folder if needed and makes it owner-only every time, not only when new.
    static func prepare(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard chmod(path, 0o700) == 0 else { throw ValidationError("cannot make \(path) owner-only: \(String(cString: strerror(errno)))") }
    }

    /// Makes existing data files owner-only (a file copied in, or left by an older version).
    static func restrict(_ paths: [String]) {
        for path in paths where FileManager.default.fileExists(atPath: path) { chmod(path, 0o600) }
    }

    static func loadOrCreateTokenKey(in directory: String) throws -> SymmetricKey {
        let path = (directory as NSString).appendingPathComponent(Defaults.keyFileName)
        let text = try loadOrCreate(path) {
            var random = SystemRandomSource()
            return Hex.encode(SymmetricKey(random: &random).bytes)
        }
        return try parseKey(hex: text, option: "key file \(path)")
    }

    static func loadOrCreateEmailVault(in directory: String) throws -> EmailVault {
        let path = (directory as NSString).appendingPathComponent("email.key")
        let text = try loadOrCreate(path) { EmailVault.random().exported }
        guard let vault = EmailVault(exported: text) else { throw ValidationError("\(path) must hold 128 hex digits") }
        return vault
    }

    /// Reads `path`, or writes `make()` to it with mode 0600 (never overwriting a file another
    /// process created a moment ago).
    static func loadOrCreate(_ path: String, make: () -> String) throws -> String {
        if let data = FileManager.default.contents(atPath: path) {
            var info = stat()
            if stat(path, &info) == 0 && info.st_mode & 0o077 != 0 {
                FileHandle.standardError.write(Data("serve: \(path) was readable by others: made it owner-only (0600)\n".utf8))
                chmod(path, 0o600)
            }
            return String(decoding: data, as: UTF8.self)
        }
        let text = make() + "\n"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST, let data = FileManager.default.contents(atPath: path) { return String(decoding: data, as: UTF8.self) }
            throw ValidationError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let written = text.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
        guard written == text.utf8.count else { throw ValidationError("cannot write \(path)") }
        print("serve: created \(path) (mode 0600)")
        return text
    }
}
