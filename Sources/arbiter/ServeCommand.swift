import ArbiterServe
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
            digits), email.key (keys for email addresses at rest), arbiter.sqlite (unless --database \
            names another file or a PostgreSQL database). Key files are created \
            with mode 0600 on first start. SIGINT/SIGTERM shut down gracefully. Every option can also be \
            set by its environment variable (ARBITER_ and the option's name, upper case, '-' as '_'; lists \
            comma-separated); an option given on the command line wins.
            """
    )

    // Every setting is optional here: an absent flag leaves the environment (ARBITER_NAME) or
    // the default to ServeConfiguration, which documents, reads and validates them all.
    @Option(help: help(.udp)) var udp: String?
    @Option(help: help(.http)) var http: String?
    @Option(name: .customLong("public-address"), help: help(.publicAddress)) var publicAddresses: [String] = []
    @Option(name: .customLong("protocol-id"), help: help(.protocolID)) var protocolID: String?
    @Option(name: .customLong("max-clients"), help: help(.maxClients)) var maxClients: Int?
    @Option(name: .customLong("update-interval"), help: help(.updateInterval)) var updateInterval: Double?
    @Option(name: .customLong("data-dir"), help: help(.dataDir)) var dataDir: String?
    @Option(help: help(.database)) var database: String?
    @Option(name: .customLong("database-password-file"), help: help(.databasePasswordFile)) var databasePasswordFile: String?
    @Option(name: .customLong("tls-cert"), help: help(.tlsCert)) var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: help(.tlsKey)) var tlsKey: String?
    @Option(name: .customLong("metrics-token"), help: help(.metricsToken)) var metricsToken: String?
    @Option(help: help(.seconds)) var seconds: Double?
    @Option(name: .customLong("web-root"), help: help(.webRoot)) var webRoot: String?
    @Option(name: .customLong("sqlite-sync"), help: help(.sqliteSync)) var sqliteSync: String?

    @Option(name: .customLong("password-cost"), help: help(.passwordCost)) var passwordCost: String?
    @Option(name: .customLong("max-concurrent-hashes"), help: help(.maxConcurrentHashes)) var maxConcurrentHashes: Int?
    @Option(name: .customLong("max-hash-waiters"), help: help(.maxHashWaiters)) var maxHashWaiters: Int?
    @Option(name: .customLong("session-lifetime"), help: help(.sessionLifetime)) var sessionLifetime: Double?
    @Option(name: .customLong("refresh-lifetime"), help: help(.refreshLifetime)) var refreshLifetime: Double?
    @Option(name: .customLong("session-cache-entries"), help: help(.sessionCacheEntries)) var sessionCacheEntries: Int?
    @Option(name: .customLong("session-cache-seconds"), help: help(.sessionCacheSeconds)) var sessionCacheSeconds: Double?
    @Option(name: .customLong("device-logins-per-address"), help: help(.deviceLoginsPerAddress)) var deviceLoginsPerAddress: Int?
    @Option(name: .customLong("failed-refreshes-per-address"), help: help(.failedRefreshesPerAddress)) var failedRefreshesPerAddress: Int?
    @Option(name: .customLong("registrations-per-address"), help: help(.registrationsPerAddress)) var registrationsPerAddress: Int?
    @Option(name: .customLong("failed-logins-per-account-and-address"), help: help(.failedLoginsPerAccountAndAddress))
    var failedLoginsPerAccountAndAddress: Int?
    @Option(name: .customLong("failed-logins-per-address"), help: help(.failedLoginsPerAddress)) var failedLoginsPerAddress: Int?
    @Option(name: .customLong("failed-logins-per-account"), help: help(.failedLoginsPerAccount)) var failedLoginsPerAccount: Int?
    @Option(name: .customLong("trusted-proxy"), help: help(.trustedProxy)) var trustedProxies: [String] = []
    @Option(name: .customLong("operator"), help: help(.operator)) var operators: [String] = []

    @Option(name: .customLong("open-games-per-account"), help: help(.openGamesPerAccount)) var openGamesPerAccount: Int?
    @Option(name: .customLong("pending-invites-per-account"), help: help(.pendingInvitesPerAccount)) var pendingInvitesPerAccount: Int?
    @Option(name: .customLong("pending-friend-requests-per-account"), help: help(.pendingFriendRequestsPerAccount))
    var pendingFriendRequestsPerAccount: Int?
    @Option(name: .customLong("max-matches-per-account"), help: help(.maxMatchesPerAccount)) var maxMatchesPerAccount: Int?
    @Option(name: .customLong("max-tick-rate"), help: help(.maxTickRate)) var maxTickRate: Int?

    @Option(name: .customLong("chat-sockets-per-account"), help: help(.chatSocketsPerAccount)) var chatSocketsPerAccount: Int?
    @Option(name: .customLong("chat-outbox-bytes"), help: help(.chatOutboxBytes)) var chatOutboxBytes: Int?
    @Option(name: .customLong("chat-message-bytes"), help: help(.chatMessageBytes)) var chatMessageBytes: Int?
    @Option(name: .customLong("chat-rate"), help: help(.chatRate)) var chatRate: Double?
    @Option(name: .customLong("chat-burst"), help: help(.chatBurst)) var chatBurst: Int?
    @Option(name: .customLong("chat-messages-per-channel"), help: help(.chatMessagesPerChannel)) var chatMessagesPerChannel: Int?
    @Option(name: .customLong("chat-retention"), help: help(.chatRetention)) var chatRetention: Double?
    @Option(name: .customLong("chat-prune-interval"), help: help(.chatPruneInterval)) var chatPruneInterval: Double?

    @Option(name: .customLong("token-expiry"), help: help(.tokenExpiry)) var tokenExpiry: Int?
    @Option(name: .customLong("token-timeout"), help: help(.tokenTimeout)) var tokenTimeout: Int?

    @Option(name: .customLong("connection-budget"), help: help(.connectionBudget)) var connectionBudget: Int?
    @Option(name: .customLong("memory-budget"), help: help(.memoryBudget)) var memoryBudget: Int?
    @Option(name: .customLong("over-budget-grace"), help: help(.overBudgetGrace)) var overBudgetGrace: Double?
    @Option(name: .customLong("packets-per-second"), help: help(.packetsPerSecond)) var packetsPerSecond: Double?
    @Option(name: .customLong("packet-burst"), help: help(.packetBurst)) var packetBurst: Double?
    @Option(name: .customLong("match-idle"), help: help(.matchIdle)) var matchIdle: Double?
    @Option(name: .customLong("arena-tick-rate"), help: help(.arenaTickRate)) var arenaTickRate: Int?
    @Option(name: .customLong("game-threads"), help: help(.gameThreads)) var gameThreads: Int?
    @Option(help: help(.cpus)) var cpus: String?

    @Option(name: .customLong("play-url"), help: help(.playURL)) var playURL: String?
    @Option(name: .customLong("play-max-players"), help: help(.playMaxPlayers)) var playMaxPlayers: Int?
    @Option(name: .customLong("play-frame-bytes"), help: help(.playFrameBytes)) var playFrameBytes: Int?
    @Option(name: .customLong("play-frame-rate"), help: help(.playFrameRate)) var playFrameRate: Double?
    @Option(name: .customLong("play-frame-burst"), help: help(.playFrameBurst)) var playFrameBurst: Double?
    @Option(name: .customLong("play-outbound-frames"), help: help(.playOutboundFrames)) var playOutboundFrames: Int?

    @Option(name: .customLong("report-retry-interval"), help: help(.reportRetryInterval)) var reportRetryInterval: Double?
    @Option(name: .customLong("match-sweep-interval"), help: help(.matchSweepInterval)) var matchSweepInterval: Double?
    @Option(name: .customLong("unreported-match-grace"), help: help(.unreportedMatchGrace)) var unreportedMatchGrace: Double?

    private static func help(_ setting: ServeSetting) -> ArgumentHelp { ArgumentHelp(ServeConfiguration.help(setting)) }

    /// The flags given, by setting (absent ones left out).
    var flags: [ServeSetting: ServeValue] {
        var flags: [ServeSetting: ServeValue] = [:]
        func put(_ setting: ServeSetting, _ value: String?) { if let value { flags[setting] = .string(value) } }
        func put(_ setting: ServeSetting, _ value: Int?) { if let value { flags[setting] = .int(value) } }
        func put(_ setting: ServeSetting, _ value: Double?) { if let value { flags[setting] = .double(value) } }
        func put(_ setting: ServeSetting, _ value: [String]) { if !value.isEmpty { flags[setting] = .strings(value) } }
        put(.udp, udp)
        put(.http, http)
        put(.publicAddress, publicAddresses)
        put(.protocolID, protocolID)
        put(.maxClients, maxClients)
        put(.updateInterval, updateInterval)
        put(.dataDir, dataDir)
        put(.database, database)
        put(.databasePasswordFile, databasePasswordFile)
        put(.tlsCert, tlsCert)
        put(.tlsKey, tlsKey)
        put(.metricsToken, metricsToken)
        put(.seconds, seconds)
        put(.webRoot, webRoot)
        put(.sqliteSync, sqliteSync)
        put(.passwordCost, passwordCost)
        put(.maxConcurrentHashes, maxConcurrentHashes)
        put(.maxHashWaiters, maxHashWaiters)
        put(.sessionLifetime, sessionLifetime)
        put(.refreshLifetime, refreshLifetime)
        put(.sessionCacheEntries, sessionCacheEntries)
        put(.sessionCacheSeconds, sessionCacheSeconds)
        put(.deviceLoginsPerAddress, deviceLoginsPerAddress)
        put(.failedRefreshesPerAddress, failedRefreshesPerAddress)
        put(.registrationsPerAddress, registrationsPerAddress)
        put(.failedLoginsPerAccountAndAddress, failedLoginsPerAccountAndAddress)
        put(.failedLoginsPerAddress, failedLoginsPerAddress)
        put(.failedLoginsPerAccount, failedLoginsPerAccount)
        put(.trustedProxy, trustedProxies)
        put(.operator, operators)
        put(.openGamesPerAccount, openGamesPerAccount)
        put(.pendingInvitesPerAccount, pendingInvitesPerAccount)
        put(.pendingFriendRequestsPerAccount, pendingFriendRequestsPerAccount)
        put(.maxMatchesPerAccount, maxMatchesPerAccount)
        put(.maxTickRate, maxTickRate)
        put(.chatSocketsPerAccount, chatSocketsPerAccount)
        put(.chatOutboxBytes, chatOutboxBytes)
        put(.chatMessageBytes, chatMessageBytes)
        put(.chatRate, chatRate)
        put(.chatBurst, chatBurst)
        put(.chatMessagesPerChannel, chatMessagesPerChannel)
        put(.chatRetention, chatRetention)
        put(.chatPruneInterval, chatPruneInterval)
        put(.tokenExpiry, tokenExpiry)
        put(.tokenTimeout, tokenTimeout)
        put(.connectionBudget, connectionBudget)
        put(.memoryBudget, memoryBudget)
        put(.overBudgetGrace, overBudgetGrace)
        put(.packetsPerSecond, packetsPerSecond)
        put(.packetBurst, packetBurst)
        put(.matchIdle, matchIdle)
        put(.arenaTickRate, arenaTickRate)
        put(.gameThreads, gameThreads)
        put(.cpus, cpus)
        put(.playURL, playURL)
        put(.playMaxPlayers, playMaxPlayers)
        put(.playFrameBytes, playFrameBytes)
        put(.playFrameRate, playFrameRate)
        put(.playFrameBurst, playFrameBurst)
        put(.playOutboundFrames, playOutboundFrames)
        put(.reportRetryInterval, reportRetryInterval)
        put(.matchSweepInterval, matchSweepInterval)
        put(.unreportedMatchGrace, unreportedMatchGrace)
        return flags
    }

    func run() async throws {
        let config: ServeConfiguration
        do {
            config = try ServeConfiguration.load(flags: flags)
        } catch {
            throw ValidationError(error.description)
        }
        let httpAddress = config.http
        let dataDir = config.dataDirectory
        let tlsCert = config.tlsCertificatePath
        lineBufferedOutput()
        // Everything this process creates (database, WAL, keys, outbox) is owner-only.
        umask(0o077)
        // The control port's address is checked before anything is opened: Hummingbird's own
        // bind error would come late and not name it. (A UDP port in use is named where it binds.)
        let probe = tcpListenProbe(httpAddress)
        guard probe == 0 else { throw failure("serve", Self.cannotListen(httpAddress, "HTTP", errno: probe)) }
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

        try DataDirectory.prepare(dataDir)
        let key = try DataDirectory.loadOrCreateTokenKey(in: dataDir)
        let vault = try DataDirectory.loadOrCreateEmailVault(in: dataDir)
        let (stores, postgres) = try await Self.openDatabase(config, logger: logger)
        // The PostgreSQL pool runs beside everything else and stops last, once the services have.
        let databasePool = postgres.map { database in Task { try await database.run() } }
        defer { databasePool?.cancel() }
        // On PostgreSQL, boards, chat and session revocations are shared with the other control ports
        // on the database through its notifications; the listener runs as long as the pool.
        let bus = postgres.map { PostgresNotificationBus(database: $0, logger: logger) }
        let listener = bus.map { bus in Task { try await bus.run() } }
        defer { listener?.cancel() }
        let outbox = try ResultsOutbox(directory: (dataDir as NSString).appendingPathComponent("outbox"))

        let clock = SystemClock()
        if let cpus = config.cpus, let missing = cpus.notAllowed().first {
            throw failure("serve", "--cpus names CPU \(missing), which this process may not use (it may use \(CPUList.allowed()))")
        }
        // One game worker per thread, each with its own socket, matches and directory.
        var workers: [GameWorkerPool.Worker] = []
        var loops: [TransportServerService] = []
        var bound: [NetAddress] = []
        var streamRoutes: [StreamGateway.Route] = []
        for index in 0..<config.resolvedGameThreads {
            let directory = MatchDirectory(idleSeconds: config.matchIdle, order: HostedRules.standingsOrder)
            let bind = config.udpAddress(worker: index)
            let transport: TransportServer
            do {
                transport = try TransportServer(
                    configuration: ServerConfiguration(
                        protocolID: config.protocolID, privateKey: key,
                        serverAddresses: [bind] + config.publicAddresses(worker: index),
                        maxClients: config.maxClients),
                    bind: bind, updateInterval: config.updateInterval, schedule: .atDeadlines, logger: logger)
            } catch let error as UDPSocketError {
                throw failure("serve", Self.cannotListen(bind, "UDP", errno: error.errno))
            }
            bound.append(transport.socket.localAddress)
            let inbox = StreamInbox()
            transport.attachStreams(inbox)
            streamRoutes.append(.init(address: config.gameAddress(worker: index, bound: transport.socket.localAddress), inbox: inbox))
            let statsBoard = GameServerStatsBoard()
            let handler = GameServerHandler(
                rules: HostedRules(), directory: directory, logger: logger, statsBoard: statsBoard,
                configuration: .init(limits: config.gameServerLimits, defaultArena: config.defaultArena), clock: clock, worker: index)
            workers.append(.init(
                index: index, address: config.gameAddress(worker: index, bound: transport.socket.localAddress), directory: directory,
                statsBoard: statsBoard))
            loops.append(TransportServerService(server: transport, handler: handler, threadName: "arbiter-game-\(index)", cpus: config.cpus(worker: index)))
        }
        let pool = GameWorkerPool(workers: workers)
        // WebSocket players (`GET /v1/play` on the control port) join the same workers.
        let streams = StreamGateway(routes: streamRoutes, limits: config.playStreamLimits)
        let boundUDP = bound[0]
        // Names this process in every response's X-Arbiter-Instance, to tell control ports apart
        // behind a load balancer: eight random hex digits (nothing about the host leaks).
        let instanceID = String(UInt32.random(in: 0...UInt32.max) | 0x1000_0000, radix: 16)
        let gamePorts = "game_threads=\(workers.count) game_ports=\(bound.map { String($0.port) }.joined(separator: ","))"
        let inProcessHost = InProcessMatchHost(
            pool: pool, catalog: GameCatalog([HostedRules.catalogEntry]), clock: clock, streams: streams, publicPlayEndpoint: config.playURL)
        // On PostgreSQL, other instances may share the database: presence, the budgets and the
        // match directory go in its tables.
        let sharing = postgres.map { PostgresSharing(database: $0, local: inProcessHost, limits: config.controlPortLimits) }
        let settings = ControlPlaneSettings(
            passwordCost: config.passwordCost.hasherCost, maxConcurrentHashes: config.maxConcurrentHashes,
            sessionLifetime: config.sessionLifetime, refreshLifetime: config.refreshLifetime,
            observability: Observability(
                metricsText: { registry.emitToString() }, serverStats: { ProcessStats.report(pool.stats.withWebSocket(streams.stats)) }, metricsToken: config.metricsToken,
                instanceID: instanceID),
            matchLimits: config.matchLimits, limits: config.controlPortLimits, logger: logger,
            web: try Self.webPages(config), operators: Set(config.operators))
        let minter = config.tokenMinter(privateKey: key)
        let services: ControlPlaneServices
        if let postgres, let bus, let sharing {
            services = try await ControlPlaneServices.make(
                postgres: postgres, bus: bus, tables: sharing.tables, hosting: sharing.hosting, minter: minter, vault: vault, settings: settings)
        } else {
            services = try await ControlPlaneServices.make(stores: stores, hosting: inProcessHost, minter: minter, vault: vault, settings: settings)
        }
        // Reports a previous process could not deliver are stored first; then every session it
        // left running is closed as abandoned (this process's game server runs none of them), so
        // each game is joinable again.
        let forwarder = MatchReportForwarder(directories: workers.map(\.directory), recorder: services.recorder, outbox: outbox, retryInterval: .seconds(config.reportRetryInterval), logger: logger)
        // Not on a shared database, where other instances' matches are running (see PostgresSharing).
        let abandoned = sharing == nil ? try await services.recorder.abandonInterruptedMatches() : 0
        if abandoned > 0 { logger.warning("closed matches a previous run left running", metadata: ["count": "\(abandoned)"]) }
        let scheme = tlsCert == nil ? "http" : "https"
        let host: String = {
            let text = httpAddress.description
            let colon = text.lastIndex(of: ":") ?? text.endIndex
            return String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        }()
        let application = try makeControlPlaneApplication(
            services: services,
            configuration: ControlPlaneConfiguration(host: host, port: Int(httpAddress.port), tlsCertificatePath: tlsCert, tlsKeyPath: config.tlsKeyPath),
            logger: logger,
            onServerRunning: { port in
                print("serve: ready udp=\(boundUDP) http=\(scheme)://\(httpAddress.family == .ipv6 ? "[\(host)]" : host):\(port) data=\(dataDir) database=\(config.resolvedDatabase.kind) protocol_id=0x\(String(config.protocolID, radix: 16)) \(gamePorts) instance=\(instanceID)")
            })
        // Shut down in reverse: the game server first (it reports its running matches as
        // abandoned), then the forwarder once those reports are stored, the control port last.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: application),
                    .init(service: forwarder),
                    .init(service: MatchJanitor(
                        recorder: services.recorder, interval: .seconds(config.matchSweepInterval), grace: config.unreportedMatchGrace)),
                    .init(service: ChatJanitor(services: services, interval: .seconds(config.chatPruneInterval), logger: logger)),
                    .init(service: SessionJanitor(services: services, interval: .seconds(config.chatPruneInterval), logger: logger)),
                ] + (sharing?.services ?? []) + loops.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        if let seconds = config.runSeconds {
            Task {
                try await Task.sleep(for: .seconds(seconds))
                await group.triggerGracefulShutdown()
            }
        }
        do {
            try await group.run()
        } catch {
            // The port was free a moment ago (the probe above), but something took it since.
            if let code = controlPortListenErrno(error) { throw failure("serve", Self.cannotListen(httpAddress, "HTTP", errno: code)) }
            throw error
        }
        print("serve: stopped")
    }

    /// The stores on `--database`, migrated; for PostgreSQL also its pool, which must run for as
    /// long as they are used. A database that cannot be opened or reached ends the command with
    /// one line saying why.
    static func openDatabase(_ config: ServeConfiguration, logger: Logger) async throws -> (ControlPlaneStores, PostgresDatabase?) {
        switch config.resolvedDatabase {
        case .sqlite(let path):
            let database: AppDatabase
            do {
                database = try AppDatabase.file(at: path, sync: config.sqliteSync)
            } catch {
                throw failure("serve", "cannot open the database sqlite:\(path): \(error)")
            }
            DataDirectory.restrict([path, path + "-wal", path + "-shm"])
            return (.sqlite(database), nil)
        case .postgres(let location):
            do {
                let database = try PostgresDatabase(location: location, password: try databasePassword(config, location), logger: logger)
                try await database.migrate()
                return (.postgres(database), database)
            } catch let problem as PostgresDatabase.ConnectionFailure {
                throw failure("serve", problem.description)
            }
        }
    }

    /// `--database-password-file`'s first line, else none when the URL holds one, else PGPASSWORD.
    static func databasePassword(_ config: ServeConfiguration, _ location: PostgresLocation) throws -> String? {
        if let path = config.databasePasswordFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw failure("serve", "cannot read --database-password-file \(path)")
            }
            return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        }
        if location.password != nil { return nil }
        return ProcessInfo.processInfo.environment["PGPASSWORD"]
    }

    /// The pages of `--web-root`, else of the `Clients` folder found beside the executable or in
    /// the working directory; none (with a warning) when there is none.
    static func webPages(_ config: ServeConfiguration) throws -> WebPages {
        let root = config.webRoot ?? WebPages.locate(candidates: WebPages.candidates(
            executablePath: Bundle.main.executablePath ?? CommandLine.arguments[0],
            workingDirectory: FileManager.default.currentDirectoryPath))
        guard let root else {
            FileHandle.standardError.write(Data("serve: warning: no web pages found (no Clients/web/play.html beside the executable or here): /play and /console answer 404; name the folder with --web-root\n".utf8))
            return .none
        }
        do {
            return try WebPages.load(root: root)
        } catch {
            throw failure("serve", "cannot read the web pages in \(root): \(error)")
        }
    }

    /// "cannot listen on 127.0.0.1:8080 (HTTP): address already in use".
    static func cannotListen(_ address: NetAddress, _ what: String, errno code: Int32) -> String {
        let reason = String(cString: strerror(code))
        return "cannot listen on \(address) (\(what)): \(reason.prefix(1).lowercased() + reason.dropFirst())"
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
