import Benchmark
import ControlPlane
import Foundation
import GRDB
import Hummingbird
import MatchContract
import HummingbirdTesting
import NetProtocol

/// Hosting that places every match on one fixed address (no game server needed here).
struct FixedHost: MatchHosting {
    let catalog = GameCatalog([GameCatalog.Mode(name: "arena", maps: ["default", "empty"])])
    func createMatch(gameID: Int64, settings: MatchSettings) async throws -> MatchPlacement {
        MatchPlacement(matchID: UInt64.random(in: 1...UInt64(Int64.max)), serverAddress: NetAddress(ipv4: 127, 0, 0, 1, port: 40000))
    }
    func scoreboard(matchID: UInt64) async -> [ScoreLine]? { nil }
    func reserve(matchID: UInt64, forSeconds seconds: Double) async -> Bool { true }
}

/// A control port whose global leaderboard holds `players` entries (players 1...n, random scores).
final class BoardRig: @unchecked Sendable {
    let services: ControlPlaneServices
    let token: String
    let middlePlayer: Int64

    init(players: Int) async throws {
        let database = try AppDatabase.inMemory()
        try await database.writer.write { db in
            var random = SeededRandomSource(seed: 1)
            let now = Date()
            let insertPlayer = try db.makeStatement(sql: "INSERT INTO players (id, username, display_name, email, email_hash, password_hash, created_at) VALUES (?, ?, ?, x'00', ?, 'x', ?)")
            let insertEntry = try db.makeStatement(sql: "INSERT INTO leaderboard_entries (leaderboard_id, player_id, score, updated_at) VALUES (1, ?, ?, ?)")
            for id in 1...players {
                var hash = Data(count: 8)
                hash.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(id), as: UInt64.self) }
                try insertPlayer.execute(arguments: [id, "player\(id)", "Player \(id)", hash, now])
                try insertEntry.execute(arguments: [id, Int(random.next() % 1_000_000), now])
            }
        }
        var keySource = SystemRandomSource()
        services = try await ControlPlaneServices.make(
            database: database, hosting: FixedHost(), minter: TokenMinter(privateKey: SymmetricKey(random: &keySource), protocolID: 1),
            vault: .random(), passwordCost: .minimum)
        let app = Application(router: ControlPlaneRoutes(services: services).router())
        token = try await app.test(.router) { client in
            let reply = try await client.execute(
                uri: "/v1/accounts", method: .post,
                body: ByteBuffer(string: #"{"username":"benchmarker","email":"bench@example.com","password":"benchmark!"}"#))
            let json = try JSONSerialization.jsonObject(with: Data(buffer: reply.body)) as? [String: Any]
            return json?["token"] as? String ?? ""
        }
        middlePlayer = Int64(players / 2)
        // Warm the cache: the first read loads the board.
        _ = try await query("/v1/leaderboards/global?limit=1")
    }

    func query(_ uri: String, times: Int = 1) async throws -> Int {
        let app = Application(router: ControlPlaneRoutes(services: services).router())
        return try await app.test(.router) { client in
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(self.token)"
            var bytes = 0
            for _ in 0..<times {
                bytes += try await client.execute(uri: uri, method: .get, headers: headers) { $0.body.readableBytes }
            }
            return bytes
        }
    }
}

nonisolated(unsafe) var boardRig: BoardRig?
nonisolated(unsafe) var router: Router<ArbiterRequestContext>?

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput], warmupIterations: 5, scalingFactor: .one,
        maxDuration: .seconds(5), maxIterations: 2_000)

    let setupBoard: @Sendable () async throws -> Void = {
        if boardRig == nil { boardRig = try await BoardRig(players: 1_000_000) }
    }

    // One sample = 1,000 requests through the router on one application (no sockets); the figures
    // are per request: auth, the ranked query, the name lookup, JSON.
    Benchmark("Leaderboard top 100 of 1,000,000 (route, in process)", configuration: .init(scalingFactor: .kilo, maxIterations: 20, setup: setupBoard)) { benchmark in
        guard let rig = boardRig else { return }
        blackHole(try await rig.query("/v1/leaderboards/global?limit=100", times: benchmark.scaledIterations.count))
    }

    Benchmark("Leaderboard around a mid-table player of 1,000,000 (route, in process)", configuration: .init(scalingFactor: .kilo, maxIterations: 20, setup: setupBoard)) { benchmark in
        guard let rig = boardRig else { return }
        blackHole(try await rig.query("/v1/leaderboards/global?limit=21&around=\(rig.middlePlayer)", times: benchmark.scaledIterations.count))
    }

    // Results of a 64-player match in one transaction: session, participations, statistics, two boards.
    Benchmark("Store the results of a 64-player match", configuration: .init(maxIterations: 300)) { benchmark in
        let database = try AppDatabase.inMemory()
        let services = try await ControlPlaneServices.make(
            database: database, hosting: FixedHost(), minter: TokenMinter(privateKey: SymmetricKey(bytes: [UInt8](repeating: 1, count: 32))!, protocolID: 1),
            vault: .random(), passwordCost: .minimum)
        try await database.writer.write { db in
            for id in 1...64 {
                try db.execute(sql: "INSERT INTO players (id, username, display_name, email, email_hash, password_hash, created_at) VALUES (?, ?, ?, x'00', ?, 'x', ?)",
                               arguments: [id, "player\(id)", "P\(id)", Data([UInt8(id)]), Date()])
            }
            try db.execute(sql: "INSERT INTO games (id, name, description, created_by, mode, max_players, tick_rate, score_limit, time_limit_seconds, visibility, status, created_at) VALUES (1, 'g', '', 1, 'arena', 64, 60, 20, 600, 'public', 'open', ?)", arguments: [Date()])
            try db.execute(sql: "INSERT INTO leaderboards (key, operator) VALUES ('game:1', 'best')")
        }
        var matchID: UInt64 = 1
        for _ in benchmark.scaledIterations {
            matchID += 1
            let current = matchID
            try await database.writer.write { db in
                try db.execute(sql: "INSERT INTO game_sessions (game_id, match_id, server_address, start_time, status) VALUES (1, ?, '127.0.0.1:40000', ?, 'running')",
                               arguments: [Int64(current), Date()])
            }
            benchmark.startMeasurement()
            _ = try await services.recorder.record(MatchReport(matchID: matchID, endedAt: Date(), lines: (1...64).map {
                .init(playerID: UInt64($0), score: $0 * 3, kills: $0 % 7, deaths: $0 % 5, placement: 65 - $0, secondsPlayed: 600)
            }))
            benchmark.stopMeasurement()
        }
    }

    // 100 concurrent logins at the production cost (Argon2id, 64 MiB, 2 hashes at a time). The
    // waiting line and the login budgets are widened so that all 100 are hashed: with the
    // defaults, logins beyond the line (32) answer 503 and those beyond the per-(account, address)
    // burst (5 in flight) answer 429, which would measure the limits, not the hashing.
    Benchmark(
        "100 concurrent logins, interactive Argon2id cost (one iteration = 100 logins)",
        configuration: .init(metrics: [.wallClock, .peakMemoryResident, .throughput], warmupIterations: 0, maxIterations: 3)
    ) { benchmark in
        var limits = ControlPortLimits()
        limits.maxHashWaiters = 128
        limits.failedLoginsPerAccountAndAddress = .init(rate: 1000, burst: 1000)
        limits.failedLoginsPerAccount = .init(rate: 1000, burst: 1000)
        limits.failedLoginsPerAddress = .init(rate: 1000, burst: 1000)
        let services = try await ControlPlaneServices.make(
            database: try AppDatabase.inMemory(), hosting: FixedHost(),
            minter: TokenMinter(privateKey: SymmetricKey(bytes: [UInt8](repeating: 1, count: 32))!, protocolID: 1), vault: .random(),
            passwordCost: .interactive, maxConcurrentHashes: 2, limits: limits)
        let app = Application(router: ControlPlaneRoutes(services: services).router())
        let iterations = benchmark.scaledIterations.count
        try await app.test(.router) { client in
            _ = try await client.execute(
                uri: "/v1/accounts", method: .post, body: ByteBuffer(string: #"{"username":"login","email":"login@example.com","password":"benchmark!"}"#))
            for _ in 0..<iterations {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<100 {
                        group.addTask {
                            _ = try await client.execute(
                                uri: "/v1/sessions", method: .post, body: ByteBuffer(string: #"{"username":"login","password":"benchmark!"}"#))
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }
}
