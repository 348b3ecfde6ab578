import ArbiterServe
import ControlPlane
import Foundation
import GameCore
import GameRuntime
import NetProtocol
import Testing

@Suite struct ServeConfigurationTests {
    /// The defaults are the values the services had before they were configurable.
    @Test func defaultsAreTheServicesOwnDefaults() throws {
        let config = try ServeConfiguration.load(flags: [:], environment: [:])
        #expect(config == ServeConfiguration())
        #expect(config.udp == NetAddress("127.0.0.1:40000"))
        #expect(config.http == NetAddress("127.0.0.1:8080"))
        #expect(config.protocolID == 0x4152_4249_5445_5201)
        #expect(config.maxClients == 1024 && config.updateInterval == 0.01 && config.dataDirectory == "./data")
        #expect(config.publicAddresses.isEmpty && config.trustedProxies.isEmpty)
        #expect(config.tlsCertificatePath == nil && config.tlsKeyPath == nil && config.metricsToken == nil && config.runSeconds == nil)
        #expect(config.passwordCost == .interactive && config.maxConcurrentHashes == 2 && config.sessionLifetime == 7 * 24 * 3600)
        #expect(config.gameServerLimits == GameServerLimits())
        #expect(config.matchLimits == MatchLimits())
        #expect(config.defaultArena == .init(maxPlayers: 64, tickRate: 60, scoreLimit: 1_000_000, timeLimitSeconds: 86_400))
        #expect(config.matchIdle == MatchDirectory().idleSeconds)
        #expect(config.reportRetryInterval == 5 && config.matchSweepInterval == 30 && config.unreportedMatchGrace == 120)
        #expect(config.chatPruneInterval == 3600)

        let key = try #require(SymmetricKey(bytes: [UInt8](repeating: 1, count: 32)))
        let minter = config.tokenMinter(privateKey: key)
        let plain = TokenMinter(privateKey: key, protocolID: config.protocolID)
        #expect(minter.expireSeconds == plain.expireSeconds && minter.timeoutSeconds == plain.timeoutSeconds)

        let limits = config.controlPortLimits
        let standard = ControlPortLimits()
        for (a, b) in [
            (limits.failedLoginsPerAccountAndAddress, standard.failedLoginsPerAccountAndAddress),
            (limits.failedLoginsPerAccount, standard.failedLoginsPerAccount),
            (limits.failedLoginsPerAddress, standard.failedLoginsPerAddress),
            (limits.registrationsPerAddress, standard.registrationsPerAddress),
            (limits.chatMessagesPerPlayer, standard.chatMessagesPerPlayer),
        ] {
            #expect(abs(a.rate - b.rate) < 1e-12 && a.burst == b.burst)
        }
        #expect(limits.maxHashWaiters == standard.maxHashWaiters && limits.trustedProxies == standard.trustedProxies)
        #expect(limits.chatSocketsPerAccount == standard.chatSocketsPerAccount && limits.chatOutboxBytes == standard.chatOutboxBytes)
        #expect(limits.chatMessageBytes == standard.chatMessageBytes && limits.chatMessagesPerChannel == standard.chatMessagesPerChannel)
        #expect(limits.chatRetentionSeconds == standard.chatRetentionSeconds)
        #expect(limits.openGamesPerAccount == standard.openGamesPerAccount && limits.pendingInvitesPerAccount == standard.pendingInvitesPerAccount)
        #expect(limits.pendingFriendRequestsPerAccount == standard.pendingFriendRequestsPerAccount)
        #expect(ServeConfiguration.sources(flags: [:], environment: [:]).values.allSatisfy { $0 == .defaultValue })
    }

    @Test func environmentOverridesDefaults() throws {
        let environment = [
            "ARBITER_UDP": "0.0.0.0:41000",
            "ARBITER_MAX_CLIENTS": "64",
            "ARBITER_PUBLIC_ADDRESS": "203.0.113.7:41000, 203.0.113.8:41000",
            "ARBITER_TRUSTED_PROXY": "10.0.0.1,,10.0.0.2",
            "ARBITER_PROTOCOL_ID": "0x1234",
            "ARBITER_PASSWORD_COST": "minimum",
            "ARBITER_METRICS_TOKEN": "s3cret",
            "ARBITER_CHAT_RATE": "2.5",
            "ARBITER_TOKEN_EXPIRY": "120",
            "ARBITER_SECONDS": "30",
            "ARBITER_FAILED_LOGINS_PER_ACCOUNT_AND_ADDRESS": "12",
            "ARBITER_TLS_CERT": "",
            "UNRELATED": "1",
        ]
        let config = try ServeConfiguration.load(flags: [:], environment: environment)
        #expect(config.udp == NetAddress("0.0.0.0:41000"))
        #expect(config.maxClients == 64)
        #expect(config.publicAddresses == [NetAddress("203.0.113.7:41000"), NetAddress("203.0.113.8:41000")].compactMap { $0 })
        #expect(config.trustedProxies == ["10.0.0.1", "10.0.0.2"])
        #expect(config.protocolID == 0x1234)
        #expect(config.passwordCost == .minimum)
        #expect(config.metricsToken == "s3cret")
        #expect(config.chatRate == 2.5 && config.controlPortLimits.chatMessagesPerPlayer.rate == 2.5)
        let key = try #require(SymmetricKey(bytes: [UInt8](repeating: 0, count: 32)))
        #expect(config.tokenExpiry == 120 && config.tokenMinter(privateKey: key).expireSeconds == 120)
        #expect(config.runSeconds == 30)
        #expect(config.controlPortLimits.failedLoginsPerAccountAndAddress.burst == 12)
        #expect(config.tlsCertificatePath == nil, "an empty variable counts as unset")
        #expect(config.http == ServeConfiguration().http)
        let sources = ServeConfiguration.sources(flags: [:], environment: environment)
        #expect(sources[.maxClients] == .environment && sources[.http] == .defaultValue)
    }

    @Test func trustedProxiesAreAddressesOrBlocks() throws {
        let flags: [ServeSetting: ServeValue] = [.trustedProxy: .strings(["10.0.0.0/24", "::1", "proxy.internal", "10.0.0.0/40"])]
        let error = #expect(throws: ServeConfigurationError.self) { try ServeConfiguration.load(flags: flags, environment: [:]) }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("'proxy.internal'") && text.contains("'10.0.0.0/40'") && !text.contains("'::1'"), "\(text)")
        let config = try ServeConfiguration.load(flags: [.trustedProxy: .strings(["127.0.0.1/32", "fd00::/8"])], environment: [:])
        #expect(config.controlPortLimits.trustedProxies == ["127.0.0.1/32", "fd00::/8"])
    }

    @Test func sqliteSyncIsNormalUnlessFullIsAskedFor() throws {
        #expect(try ServeConfiguration.load(flags: [:], environment: [:]).sqliteSync == .normal)
        #expect(try ServeConfiguration.load(flags: [:], environment: ["ARBITER_SQLITE_SYNC": "full"]).sqliteSync == .full)
        let error = #expect(throws: ServeConfigurationError.self) {
            try ServeConfiguration.load(flags: [.sqliteSync: .string("off")], environment: [:])
        }
        #expect(error.map { "\($0)" }?.contains("--sqlite-sync must be normal or full") == true)
    }

    @Test func flagsOverrideTheEnvironment() throws {
        let environment = ["ARBITER_MAX_CLIENTS": "64", "ARBITER_HTTP": "127.0.0.1:9000", "ARBITER_TRUSTED_PROXY": "10.0.0.1"]
        let flags: [ServeSetting: ServeValue] = [
            .maxClients: .int(10), .trustedProxy: .strings(["192.0.2.1"]), .matchIdle: .double(5), .dataDir: .string("/tmp/x"),
        ]
        let config = try ServeConfiguration.load(flags: flags, environment: environment)
        #expect(config.maxClients == 10)
        #expect(config.trustedProxies == ["192.0.2.1"])
        #expect(config.http == NetAddress("127.0.0.1:9000"), "the environment still fills what no flag gives")
        #expect(config.matchIdle == 5 && config.dataDirectory == "/tmp/x")
        let sources = ServeConfiguration.sources(flags: flags, environment: environment)
        #expect(sources[.maxClients] == .flag && sources[.http] == .environment && sources[.udp] == .defaultValue)
    }

    /// Every environment variable is the flag's name in swift-configuration's encoding.
    /// `--game-threads` and `--cpus`, and the ports and pins each worker gets from them.
    @Test func gameWorkersGetConsecutivePortsAndTheirCPUs() throws {
        let config = try ServeConfiguration.load(
            flags: [.gameThreads: .int(3), .cpus: .string("0,2-3"), .udp: .string("127.0.0.1:41000"), .publicAddress: .strings(["203.0.113.7:50000"])],
            environment: [:])
        #expect(config.resolvedGameThreads == 3)
        #expect(config.cpus == CPUList([0, 2, 3]))
        #expect((0..<3).map { config.udpAddress(worker: $0).port } == [41000, 41001, 41002])
        #expect(config.gameAddress(worker: 2, bound: config.udpAddress(worker: 2)) == NetAddress("203.0.113.7:50002"))
        #expect((0..<4).map { config.cpus(worker: $0) } == [CPUList([0]), CPUList([2]), CPUList([3]), CPUList([0])])
        // Port 0: every worker asks the kernel for a port of its own.
        let anyPort = try ServeConfiguration.load(flags: [.udp: .string("127.0.0.1:0")], environment: [:])
        #expect(anyPort.udpAddress(worker: 5).port == 0)
        // By default, one worker per CPU this process may use, unpinned.
        let defaults = try ServeConfiguration.load(flags: [:], environment: [:])
        #expect(defaults.resolvedGameThreads == CPUList.allowed().cpus.count && defaults.cpus == nil)

        for (text, valid) in [("1", true), ("0-3,7", true), ("", false), ("3-1", false), ("a", false), ("1,,2", false), ("-1", false)] {
            #expect((CPUList(parsing: text) != nil) == valid, "\(text)")
        }
        #expect(throws: ServeConfigurationError.self) {
            try ServeConfiguration.load(flags: [:], environment: ["ARBITER_CPUS": "2-1"])
        }
        #expect(throws: ServeConfigurationError.self) {
            try ServeConfiguration.load(flags: [.gameThreads: .int(0)], environment: [:])
        }
        #expect(throws: ServeConfigurationError.self) {
            try ServeConfiguration.load(flags: [.udp: .string("127.0.0.1:65535"), .gameThreads: .int(2)], environment: [:])
        }
    }

    @Test func everySettingIsReadFromItsEnvironmentVariable() throws {
        for setting in ServeSetting.allCases {
            let sources = ServeConfiguration.sources(flags: [:], environment: [setting.environmentVariable: "1"])
            #expect(sources[setting] == .environment, "\(setting.environmentVariable)")
            #expect(setting.flag == "--" + setting.rawValue)
        }
    }

    @Test func validationNamesTheFlagOrTheVariable() {
        func problems(_ flags: [ServeSetting: ServeValue], _ environment: [String: String] = [:]) -> [String] {
            do {
                _ = try ServeConfiguration.load(flags: flags, environment: environment)
                return []
            } catch {
                return error.problems
            }
        }
        #expect(problems([.maxClients: .int(0)]) == ["--max-clients must be 1...1000000"])
        #expect(problems([:], ["ARBITER_MAX_CLIENTS": "0"]) == ["ARBITER_MAX_CLIENTS must be 1...1000000"])
        #expect(problems([:], ["ARBITER_MAX_CLIENTS": "many"]) == ["ARBITER_MAX_CLIENTS must be a whole number; got 'many'"])
        #expect(problems([:], ["ARBITER_METRICS_TOKEN": "x", "ARBITER_MATCH_IDLE": "soon"]) == ["ARBITER_MATCH_IDLE must be a number; got 'soon'"])
        #expect(problems([.connectionBudget: .int(1000)]) == ["--connection-budget must be 65536...1073741824 bytes"])
        #expect(problems([.maxTickRate: .int(500)]) == ["--max-tick-rate must be 10...240"])
        #expect(problems([.updateInterval: .double(1)]) == ["--update-interval must be 0.0005...0.05 seconds"])
        #expect(problems([.tlsCert: .string("cert.pem")]) == ["--tls-cert and --tls-key go together"])
        #expect(problems([.memoryBudget: .int(100_000)], ["ARBITER_CONNECTION_BUDGET": "200000"])
            == ["--memory-budget must be at least ARBITER_CONNECTION_BUDGET"])
        #expect(problems([.passwordCost: .string("cheap")]) == ["--password-cost must be interactive or minimum"])
        #expect(problems([.udp: .string("nowhere")]) == ["--udp must be IPv4 HOST:PORT or [IPv6]:PORT; got 'nowhere'"])
        #expect(problems([.http: .string("nowhere")]) == ["--http must be HOST:PORT or [IPv6]:PORT; got 'nowhere'"])
        #expect(problems([.publicAddress: .strings(["127.0.0.1:1", "x"])]) == ["--public-address must be IPv4 HOST:PORT or [IPv6]:PORT; got 'x'"])
        #expect(problems([.protocolID: .string("0xZZ")]) == ["--protocol-id must be a 64-bit unsigned number, decimal or 0x-hex; got '0xZZ'"])
        #expect(problems([.seconds: .double(-1)]) == ["--seconds must be 0.001...1000000000 seconds"])
        #expect(problems([:], ["ARBITER_MATCH_IDLE": "nan"]) == ["ARBITER_MATCH_IDLE must be 1...86400 seconds"])
        // Every problem at once.
        #expect(problems([.maxClients: .int(0), .maxConcurrentHashes: .int(0)]).count == 2)
        #expect(problems([.udp: .string("x"), .maxTickRate: .int(5)], ["ARBITER_MAX_CLIENTS": "lots"]) == [
            "--udp must be IPv4 HOST:PORT or [IPv6]:PORT; got 'x'", "ARBITER_MAX_CLIENTS must be a whole number; got 'lots'",
            "--max-tick-rate must be 10...240",
        ])
        #expect(ServeConfigurationError(problems: ["a", "b"]).description == "a\nb")
    }

    @Test func theDatabaseIsTheDataDirectorysSQLiteFileUnlessNamed() throws {
        let defaults = try ServeConfiguration.load(flags: [:], environment: [:])
        #expect(defaults.database == nil && defaults.resolvedDatabase == .sqlite(path: "./data/arbiter.sqlite"))
        #expect(try ServeConfiguration.load(flags: [.dataDir: .string("/srv/arbiter")], environment: [:]).resolvedDatabase
            == .sqlite(path: "/srv/arbiter/arbiter.sqlite"))
        #expect(try ServeConfiguration.load(flags: [.database: .string("sqlite:/tmp/other.sqlite")], environment: [:]).resolvedDatabase
            == .sqlite(path: "/tmp/other.sqlite"))
        let postgres = try ServeConfiguration.load(
            flags: [:], environment: ["ARBITER_DATABASE": "postgres://arbiter:hunter2@db.internal/game?sslmode=verify-full"])
        #expect(postgres.resolvedDatabase.kind == "postgres")
        // Shown without its password.
        #expect(postgres.display(.database) == "postgres://arbiter@db.internal:5432/game?sslmode=verify-full")
        let socket = try ServeConfiguration.load(
            flags: [.database: .string("postgresql://arbiter@/arbiter?host=/run/postgresql"), .databasePasswordFile: .string("/etc/arbiter/pw")],
            environment: [:])
        #expect(socket.resolvedDatabase == .postgres(PostgresLocation(
            endpoint: .unixSocket(path: "/run/postgresql/.s.PGSQL.5432"), username: "arbiter", database: "arbiter")))
        #expect(socket.databasePasswordFile == "/etc/arbiter/pw")
    }

    @Test func aBadDatabaseIsRefusedInOneLineWithoutItsPassword() {
        func problems(_ flags: [ServeSetting: ServeValue], _ environment: [String: String] = [:]) -> [String] {
            do {
                _ = try ServeConfiguration.load(flags: flags, environment: environment)
                return []
            } catch {
                return error.problems
            }
        }
        #expect(problems([.database: .string("mysql://a:hunter2@db/game")]) == ["--database must be sqlite:PATH or postgres://USER@HOST[:PORT]/DB"])
        #expect(problems([:], ["ARBITER_DATABASE": "postgres://:hunter2@db/game"]) == ["ARBITER_DATABASE names no user (postgres://USER@HOST/DB)"])
        #expect(problems([.database: .string("postgres://a:hunter2@db/game?sslmode=always")]).first?.hasPrefix(
            "--database has an unsupported sslmode 'always' (supported: disable, prefer, require, verify-ca, verify-full)") == true)
        #expect(problems([.databasePasswordFile: .string("pw")]) == ["--database-password-file is for a PostgreSQL --database"])
        #expect(problems([.database: .string("postgres://a:hunter2@db/game"), .databasePasswordFile: .string("pw")])
            == ["--database-password-file and a password in --database are one too many: give one"])
        #expect(!ServeConfiguration.help(.database).contains("Default: none"))
    }

    @Test func helpShowsRangeDefaultAndVariable() {
        let help = ServeConfiguration.help(.maxClients)
        #expect(help.contains("Range 1...1000000.") && help.contains("Default: 1024.") && help.contains("Env: ARBITER_MAX_CLIENTS."))
        #expect(ServeConfiguration.help(.metricsToken).contains("Env: ARBITER_METRICS_TOKEN.") && !ServeConfiguration.help(.metricsToken).contains("Default:"))
        #expect(ServeConfiguration.help(.updateInterval).contains("Default: 0.01."))
    }

    /// README's serve section lists every setting's flag and environment variable.
    @Test func readmeDocumentsEverySetting() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let missing = ServeSetting.allCases.flatMap { setting in
            [(setting.flag, "`\(setting.flag)"), (setting.environmentVariable, "`\(setting.environmentVariable)`")].filter { !readme.contains($0.1) }.map(\.0)
        }
        #expect(missing == [], "README lacks these")
    }
}
