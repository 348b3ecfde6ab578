import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import MatchContract
import NIOCore
import NIOSSL

/// Everything the control port's routes share.
public struct ControlPlaneServices: Sendable {
    let stores: ControlPlaneStores
    public let accounts: Accounts
    let leaderboards: any LeaderboardRanking
    let presence: any PresenceTracking
    let chat: any ChatRelay
    let chatMessageLimiter: any RateLimiting
    public let hosting: any MatchHosting
    public let minter: TokenMinter
    public let recorder: ResultsRecorder
    public let observability: Observability
    public let matchLimits: MatchLimits
    public let limits: ControlPortLimits
    public let web: WebPages

    /// Services on the SQLite database, with every piece of shared state in this process.
    public static func make(
        database: AppDatabase, hosting: any MatchHosting, minter: TokenMinter, vault: EmailVault,
        settings: ControlPlaneSettings = ControlPlaneSettings()
    ) async throws -> ControlPlaneServices {
        try await make(stores: .sqlite(database), shared: nil, hosting: hosting, minter: minter, vault: vault, settings: settings)
    }

    /// Services on `stores` (``ControlPlaneStores/sqlite(_:)`` or ``ControlPlaneStores/postgres(_:)``),
    /// with every piece of shared state in this process.
    public static func make(
        stores: ControlPlaneStores, hosting: any MatchHosting, minter: TokenMinter, vault: EmailVault,
        settings: ControlPlaneSettings = ControlPlaneSettings()
    ) async throws -> ControlPlaneServices {
        try await make(stores: stores, shared: nil, hosting: hosting, minter: minter, vault: vault, settings: settings)
    }

    /// Services on `stores`, with every piece of shared state in this process unless `shared`
    /// gives other state.
    static func make(
        stores: ControlPlaneStores, shared: SharedState?, hosting: any MatchHosting, minter: TokenMinter, vault: EmailVault,
        settings: ControlPlaneSettings
    ) async throws -> ControlPlaneServices {
        let limits = settings.limits
        let shared = shared ?? .inProcess(limits: limits, boards: stores.leaderboards)
        let hasher = PasswordHasher(cost: settings.passwordCost, maxConcurrentHashes: settings.maxConcurrentHashes, maxWaiters: limits.maxHashWaiters)
        let accounts = try await Accounts(
            store: stores.accounts, hasher: hasher, vault: vault, sessionLifetime: settings.sessionLifetime,
            refreshLifetime: settings.refreshLifetime, limiters: shared.logins, chat: shared.chat, sessions: shared.sessions,
            revocations: shared.sessionRevocations, operators: settings.operators, now: settings.now)
        let recorder = ResultsRecorder(
            results: stores.results, matches: stores.matches, leaderboards: shared.leaderboards, presence: shared.presence,
            logger: settings.logger)
        return ControlPlaneServices(
            stores: stores, accounts: accounts, leaderboards: shared.leaderboards, presence: shared.presence, chat: shared.chat,
            chatMessageLimiter: shared.chatMessages, hosting: hosting, minter: minter, recorder: recorder,
            observability: settings.observability, matchLimits: settings.matchLimits, limits: limits, web: settings.web)
    }
}

/// The HTTP and WebSocket routes of the control port.
public struct ControlPlaneRoutes: Sendable {
    public let services: ControlPlaneServices
    /// The control port serves TLS: the join answer's `websocket_url` is then `wss:`.
    public var servesTLS = false

    public init(services: ControlPlaneServices) { self.services = services }

    /// Every HTTP route.
    public func router() -> Router<ArbiterRequestContext> {
        let router = Router(context: ArbiterRequestContext.self)
        if let instanceID = services.observability.instanceID { router.add(middleware: InstanceHeaderMiddleware(instanceID: instanceID)) }
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: ClientAddressMiddleware(trustedProxies: services.limits.trustedProxies))
        router.get("/healthz") { _, _ -> [String: String] in ["status": "ok"] }
        let observability = services.observability
        router.get("/metrics") { request, _ -> Response in
            if let token = observability.metricsToken {
                let presented = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
                guard let presented, SessionToken.constantTimeEqual(presented, token) else {
                    throw APIError(.unauthorized, "unauthorized", "GET /metrics needs the metrics bearer token")
                }
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: observability.metricsText())))
        }
        // Built once; a malformed resource (which the tests catch) fails this route only.
        let openAPI = Result { try OpenAPIDocument.json(catalog: services.hosting.catalog) }
        router.get("/openapi.json") { _, _ -> Response in
            guard case .success(let document) = openAPI else {
                throw APIError(.internalServerError, "internal", "the OpenAPI document is unavailable")
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
        let authenticated = router.group().add(middleware: AuthMiddleware(accounts: services.accounts))
        addAccountRoutes(public: router, authenticated: authenticated)
        addFriendRoutes(authenticated)
        addGameRoutes(authenticated)
        addLeaderboardRoutes(authenticated)
        addChatRoutes(authenticated)
        addConsoleRoutes(authenticated)
        addWebPageRoutes(router)
        addPlayUpgradeHint(router)
        authenticated.get("/v1/server/stats") { _, context -> ServerStatsReport in
            _ = try context.requireIdentity()
            guard let stats = observability.serverStats() else {
                throw APIError(.serviceUnavailable, "no_game_server", "no game server runs in this process")
            }
            return stats
        }
        return router
    }

    /// The routes that upgrade to WebSocket (the chat relay, the game transport).
    public func webSocketRouter() -> Router<ArbiterRequestContext> {
        let router = Router(context: ArbiterRequestContext.self)
        addChatWebSocket(router)
        addPlayWebSocket(router)
        return router
    }
}

/// Where and how the control port listens.
public struct ControlPlaneConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// PEM certificate chain and private key; both or neither.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?

    public init(host: String = "127.0.0.1", port: Int = 8080, tlsCertificatePath: String? = nil, tlsKeyPath: String? = nil) {
        self.host = host
        self.port = port
        self.tlsCertificatePath = tlsCertificatePath
        self.tlsKeyPath = tlsKeyPath
    }
}

/// Builds the control port application (a `Service`: run it in the process's ServiceGroup).
public func makeControlPlaneApplication(
    services: ControlPlaneServices, configuration: ControlPlaneConfiguration, logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    var routes = ControlPlaneRoutes(services: services)
    routes.servesTLS = configuration.tlsCertificatePath != nil && configuration.tlsKeyPath != nil
    let webSocket = HTTPServerBuilder.http1WebSocketUpgrade(webSocketRouter: routes.webSocketRouter())
    let server: HTTPServerBuilder
    if let certificate = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath {
        let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        // TLS 1.0 and 1.1 are broken and deprecated (RFC 8996).
        tls.minimumTLSVersion = .tlsv12
        server = try .tls(webSocket, tlsConfiguration: tls)
    } else {
        server = webSocket
    }
    return Application(
        router: routes.router(), server: server,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "arbiter"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// The errno of a socket call that failed under the control port (its bind or listen, when
/// another process holds the port), if `error` is one; nil for any other error.
public func controlPortListenErrno(_ error: any Error) -> Int32? {
    (error as? IOError)?.errnoCode
}
