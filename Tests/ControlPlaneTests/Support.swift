import MatchContract
import ControlPlane
import Foundation
import GameCore
import GameRuntime
import Hummingbird
import HummingbirdTesting
import Logging
import NetProtocol
import Synchronization
import Testing

/// The game-hosting side for tests: the real match directory, no sockets, on the same
/// monotonic clock a real game server sweeps the directory with.
struct DirectoryHost: MatchHosting {
    let directory: MatchDirectory
    let serverAddress: NetAddress
    let clock = SystemClock()
    let catalog = GameCatalog([ArenaRules.catalogEntry])

    func createMatch(gameID: Int64, settings: MatchSettings) async throws -> MatchPlacement {
        MatchPlacement(matchID: directory.create(settings: settings, now: clock.monotonicSeconds()), serverAddress: serverAddress)
    }

    func scoreboard(matchID: UInt64) async -> [ScoreLine]? { directory.scoreboard(matchID: matchID, now: clock.monotonicSeconds()) }
    func reserve(matchID: UInt64, forSeconds seconds: Double) async -> Bool {
        directory.reserve(matchID: matchID, until: clock.monotonicSeconds() + seconds)
    }
    /// The game server's WebSocket side, when a test runs one (``withPlayServer(limits:_:)``).
    var gateway: (any PlayStreamGateway)? = nil
    var playGateway: (any PlayStreamGateway)? { gateway }
    /// Where clients reach `gateway`, as `arbiter serve --play-url` names it.
    var endpoint: PlayEndpoint? = nil
}

/// A control port on an in-memory database with the cheapest password hashing.
struct TestControlPlane {
    let services: ControlPlaneServices
    /// The database under the services' stores, for tests that look at the rows themselves.
    let database: AppDatabase
    let directory: MatchDirectory
    let key: SymmetricKey
    let serverAddress = NetAddress(ipv4: 127, 0, 0, 1, port: 40000)
    static let protocolID: UInt64 = 0xC0DE

    /// The production limits, except that router tests may register freely, may name the
    /// client address in `X-Forwarded-For` (router tests have no peer address: it is "unknown"),
    /// and that the login budgets keep their bursts but refill once a day: the limiters run on
    /// the machine's clock, and at the production rates (a failed login back every 12 s) a test
    /// slowed down by a loaded machine would see a spent budget refill halfway through.
    static var testLimits: ControlPortLimits {
        var limits = ControlPortLimits()
        for budget in [\ControlPortLimits.failedLoginsPerAccountAndAddress, \.failedLoginsPerAccount, \.failedLoginsPerAddress,
            \.deviceLoginsPerAddress, \.failedRefreshesPerAddress] {
            limits[keyPath: budget].rate = limits[keyPath: budget].burst / 86_400
        }
        limits.registrationsPerAddress = .init(rate: 1000, burst: 1000)
        limits.trustedProxies = ["unknown"]
        return limits
    }

    init(
        serverAddress: NetAddress = NetAddress(ipv4: 127, 0, 0, 1, port: 40000), database: AppDatabase? = nil,
        limits: ControlPortLimits = TestControlPlane.testLimits, maxConcurrentHashes: Int = 4,
        web: WebPages = .none, operators: Set<String> = [], observability: Observability = Observability(),
        playEndpoint: PlayEndpoint? = nil, now: @escaping @Sendable () -> Date = Date.init
    ) async throws {
        var random = SystemRandomSource()
        key = SymmetricKey(random: &random)
        directory = MatchDirectory()
        let database = try database ?? AppDatabase.inMemory()
        self.database = database
        var hosting = DirectoryHost(directory: directory, serverAddress: serverAddress)
        hosting.endpoint = playEndpoint
        services = try await ControlPlaneServices.make(
            database: database, hosting: hosting,
            minter: TokenMinter(privateKey: key, protocolID: Self.protocolID), vault: .random(),
            settings: ControlPlaneSettings(passwordCost: .minimum,
            maxConcurrentHashes: maxConcurrentHashes, observability: observability, limits: limits, web: web, operators: operators, now: now))
    }

    var application: some ApplicationProtocol {
        Application(router: ControlPlaneRoutes(services: services).router())
    }
}

/// A wall clock that moves only when told to.
final class SteppedClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_900_000_000)) { current = Mutex(start) }

    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var function: @Sendable () -> Date { { self.now } }
}

/// A JSON reply: status, headers and parsed body.
struct Reply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let json: [String: Any]
    /// The body as sent.
    var body = Data()

    subscript(key: String) -> Any? { json[key] }
    func string(_ key: String) -> String? { json[key] as? String }
    func int(_ key: String) -> Int? { json[key] as? Int }
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
}

extension TestClientProtocol {
    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: [String: Any]? = nil, raw: String? = nil, from address: String? = nil
    ) async throws -> Reply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        // Believed only because the test plane trusts the router tests' "unknown" peer as a proxy.
        if let address { headers[HTTPFields.Element.Name("X-Forwarded-For")!] = address }
        var body: ByteBuffer?
        if let json { body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)) }
        if let raw { body = ByteBuffer(string: raw) }
        return try await execute(uri: path, method: method, headers: headers, body: body) { response in
            let data = Data(buffer: response.body)
            let parsed = (data.isEmpty ? [:] : (try? JSONSerialization.jsonObject(with: data) as? [String: Any])) ?? [:]
            return Reply(status: response.status, headers: response.headers, json: parsed, body: data)
        }
    }

    /// Registers `name` and returns its session token and player id.
    func register(_ name: String, password: String = "correct horse battery", from address: String? = nil) async throws -> (token: String, id: Int64) {
        let reply = try await call(.post, "/v1/accounts", json: ["username": name, "email": "\(name)@example.com", "password": password], from: address)
        #expect(reply.status == .created, "register \(name): \(reply.json)")
        let player = reply["player"] as? [String: Any]
        return (reply.string("token") ?? "", Int64(player?["id"] as? Int ?? 0))
    }
}

/// Runs `body` against a live control port (loopback, port 0), failing rather than hanging.
func withLiveServer(
    limits: ControlPortLimits = TestControlPlane.testLimits,
    _ body: @escaping @Sendable (TestControlPlane, Int, any TestClientProtocol) async throws -> Void
) async throws {
    let plane = try await TestControlPlane(limits: limits)
    let app = try makeControlPlaneApplication(
        services: plane.services, configuration: ControlPlaneConfiguration(host: "127.0.0.1", port: 0), logger: Logger(label: "test"))
    try await app.test(.live) { client in
        let port = try #require(client.port)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body(plane, port, client) }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                Issue.record("chat test did not finish")
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

/// The match directory in the database lists a test host's matches.
extension DirectoryHost: LocalMatchHosting {
    var serverAddresses: [NetAddress] { [serverAddress] }
    var publicPlayEndpoint: PlayEndpoint? { endpoint }
    func now() -> Double { clock.monotonicSeconds() }
    func runningMatches() -> [HostedMatch] {
        directory.listings(now: now()).map {
            HostedMatch(matchID: $0.matchID, serverAddress: serverAddress, scoreboard: $0.scoreboard, emptyUntil: $0.emptyUntil)
        }
    }
}

/// A self-signed certificate for `localhost` and 127.0.0.1 (P-256, one day), made by Debian's
/// openssl in a folder of its own, for the tests of a control port that serves TLS.
struct TestCertificate: Sendable {
    let folder: String
    var certificate: String { folder + "/cert.pem" }
    var key: String { folder + "/key.pem" }

    struct Failed: Error, CustomStringConvertible { let description: String }

    static func make() throws -> TestCertificate {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-cert-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let made = TestCertificate(folder: folder)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", made.key, "-out", made.certificate,
            "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failed(description: "openssl req failed: \(String(decoding: text, as: UTF8.self))") }
        return made
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}
