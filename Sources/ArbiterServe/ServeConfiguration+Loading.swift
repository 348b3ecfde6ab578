import Configuration
import ControlPlane
import Foundation
import GameRuntime
import NetProtocol
import Synchronization

/// A value a flag was given (as the argument parser parsed it).
public enum ServeValue: Sendable, Equatable {
    case int(Int)
    case double(Double)
    case string(String)
    case strings([String])
}

/// Where a setting's value came from.
public enum ServeValueSource: Sendable, Equatable {
    case flag
    case environment
    case defaultValue
}

/// Every problem with a configuration, each naming the flag or environment variable it came from
/// (one a line in ``description``).
public struct ServeConfigurationError: Error, CustomStringConvertible, Equatable {
    public var problems: [String]
    public var description: String { problems.joined(separator: "\n") }

    public init(problems: [String]) { self.problems = problems }
}

extension ServeConfiguration {
    /// Builds the configuration from the flags given (absent flags are simply not in `flags`), the
    /// environment (`ARBITER_NAME` variables, read through swift-configuration), and the defaults,
    /// in that order of precedence; then validates it. Every problem is reported at once.
    public static func load(
        flags: [ServeSetting: ServeValue], environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ServeConfigurationError) -> ServeConfiguration {
        var loader = Loader(flags: flags, environment: environment)
        let configuration = loader.read()
        let sources = loader.log.sources
        var problems = loader.problems
        do {
            // A value that could not be read stays at its (valid) default here.
            try configuration.validate { setting in sources[setting] == .environment ? setting.environmentVariable : setting.flag }
        } catch {
            problems += error.problems
        }
        if !problems.isEmpty { throw ServeConfigurationError(problems: problems) }
        return configuration
    }

    /// Where each setting of a load came from (for a startup line or a test).
    public static func sources(
        flags: [ServeSetting: ServeValue], environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [ServeSetting: ServeValueSource] {
        var loader = Loader(flags: flags, environment: environment)
        _ = loader.read()
        return loader.log.sources
    }
}

/// Which provider answered each key, and which keys held a value that would not convert.
private final class ReadLog: AccessReporter {
    /// The name the flags' provider reports itself by.
    let flagsProvider: String

    init(flagsProvider: String) { self.flagsProvider = flagsProvider }

    private struct State {
        var sources: [ServeSetting: ServeValueSource] = [:]
        var unconvertible: Set<ServeSetting> = []
    }

    private let state = Mutex(State())

    var sources: [ServeSetting: ServeValueSource] { state.withLock { $0.sources } }
    func unconvertible(_ setting: ServeSetting) -> Bool { state.withLock { $0.unconvertible.contains(setting) } }

    func report(_ event: AccessEvent) {
        guard let name = event.metadata.key.components.last, let setting = ServeSetting(rawValue: name) else { return }
        var source = ServeValueSource.defaultValue
        var failed = event.conversionError != nil
        for provider in event.providerResults {
            let from: ServeValueSource = provider.providerName == flagsProvider ? .flag : .environment
            switch provider.result {
            case .success(let lookup):
                guard lookup.value != nil else { continue }
                source = from
            case .failure:
                source = from
                failed = true
            }
            break
        }
        state.withLock { state in
            state.sources[setting] = source
            if failed { state.unconvertible.insert(setting) }
        }
    }
}

/// Reads every setting through one `ConfigReader`: the flags (an in-memory provider), then the
/// environment.
private struct Loader {
    let log: ReadLog
    let reader: ConfigReader
    let environment: [String: String]
    var problems: [String] = []

    init(flags: [ServeSetting: ServeValue], environment: [String: String]) {
        self.environment = environment
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (setting, value) in flags {
            let content: ConfigContent =
                switch value {
                case .int(let number): .int(number)
                case .double(let number): .double(number)
                case .string(let text): .string(text)
                case .strings(let list): .stringArray(list)
                }
            values[AbsoluteConfigKey(["arbiter", setting.rawValue])] = ConfigValue(content, isSecret: setting.isSecret)
        }
        let secrets = Set(ServeSetting.allCases.filter(\.isSecret).map(\.environmentVariable))
        let flagsProvider = InMemoryProvider(name: "flags", values: values)
        log = ReadLog(flagsProvider: flagsProvider.providerName)
        reader = ConfigReader(
            providers: [
                flagsProvider,
                EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(secrets)),
            ],
            accessReporter: log
        ).scoped(to: "arbiter")
    }

    private func key(_ setting: ServeSetting) -> ConfigKey { ConfigKey([setting.rawValue]) }

    /// The flag or environment variable that supplied `setting`.
    private func name(_ setting: ServeSetting) -> String {
        log.sources[setting] == .environment ? setting.environmentVariable : setting.flag
    }

    private mutating func checkConverted(_ setting: ServeSetting, _ expected: String) {
        guard log.unconvertible(setting) else { return }
        let given = environment[setting.environmentVariable].map { "; got '\(setting.isSecret ? "<secret>" : $0)'" } ?? ""
        problems.append("\(name(setting)) must be \(expected)\(given)")
    }

    private mutating func int(_ setting: ServeSetting, _ fallback: Int) -> Int {
        let value = reader.int(forKey: key(setting), isSecret: setting.isSecret, default: fallback)
        checkConverted(setting, "a whole number")
        return value
    }

    private mutating func double(_ setting: ServeSetting, _ fallback: Double) -> Double {
        let value = reader.double(forKey: key(setting), isSecret: setting.isSecret, default: fallback)
        checkConverted(setting, "a number")
        return value
    }

    private mutating func optionalInt(_ setting: ServeSetting) -> Int? {
        let value = reader.int(forKey: key(setting), isSecret: setting.isSecret)
        checkConverted(setting, "a whole number")
        return value
    }

    private mutating func optionalDouble(_ setting: ServeSetting) -> Double? {
        let value = reader.double(forKey: key(setting), isSecret: setting.isSecret)
        checkConverted(setting, "a number")
        return value
    }

    private mutating func string(_ setting: ServeSetting, _ fallback: String) -> String {
        let value = reader.string(forKey: key(setting), isSecret: setting.isSecret, default: fallback)
        checkConverted(setting, "text")
        return value
    }

    /// An empty value counts as unset.
    private mutating func optionalString(_ setting: ServeSetting) -> String? {
        let value = reader.string(forKey: key(setting), isSecret: setting.isSecret)
        checkConverted(setting, "text")
        return value.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Empty entries (`a,,b`, or an empty variable) are dropped.
    private mutating func strings(_ setting: ServeSetting) -> [String] {
        let value = reader.stringArray(forKey: key(setting), isSecret: setting.isSecret, default: [])
        checkConverted(setting, "a comma-separated list")
        return value.filter { !$0.isEmpty }
    }

    private mutating func address(_ setting: ServeSetting, _ fallback: NetAddress, format: String) -> NetAddress {
        let text = string(setting, fallback.description)
        guard let address = NetAddress(text) else {
            problems.append("\(name(setting)) must be \(format); got '\(text)'")
            return fallback
        }
        return address
    }

    mutating func read() -> ServeConfiguration {
        var c = ServeConfiguration()
        let ipv4OrIPv6 = "IPv4 HOST:PORT or [IPv6]:PORT"
        c.udp = address(.udp, c.udp, format: ipv4OrIPv6)
        c.http = address(.http, c.http, format: "HOST:PORT or [IPv6]:PORT")
        var publicAddresses: [NetAddress] = []
        for text in strings(.publicAddress) {
            if let address = NetAddress(text) {
                publicAddresses.append(address)
            } else {
                problems.append("\(name(.publicAddress)) must be \(ipv4OrIPv6); got '\(text)'")
            }
        }
        c.publicAddresses = publicAddresses
        let protocolText = string(.protocolID, "0x" + String(c.protocolID, radix: 16))
        if let id = ServeConfiguration.parseProtocolID(protocolText) {
            c.protocolID = id
        } else {
            problems.append("\(name(.protocolID)) must be a 64-bit unsigned number, decimal or 0x-hex; got '\(protocolText)'")
        }
        c.maxClients = int(.maxClients, c.maxClients)
        c.updateInterval = double(.updateInterval, c.updateInterval)
        c.dataDirectory = string(.dataDir, c.dataDirectory)
        if let text = optionalString(.database) {
            do {
                c.database = try DatabaseLocation(parsing: text)
            } catch {
                // Not echoed: the URL may hold a password.
                problems.append("\(name(.database)) \(error.reason)")
            }
        }
        c.databasePasswordFile = optionalString(.databasePasswordFile)
        c.tlsCertificatePath = optionalString(.tlsCert)
        c.tlsKeyPath = optionalString(.tlsKey)
        c.metricsToken = optionalString(.metricsToken)
        c.runSeconds = optionalDouble(.seconds)
        c.webRoot = optionalString(.webRoot)

        let sync = string(.sqliteSync, c.sqliteSync.rawValue)
        if let parsed = AppDatabase.Sync(rawValue: sync) {
            c.sqliteSync = parsed
        } else {
            problems.append("\(name(.sqliteSync)) must be normal or full")
        }
        let cost = string(.passwordCost, c.passwordCost.rawValue)
        if let parsed = ServeConfiguration.PasswordCost(rawValue: cost) {
            c.passwordCost = parsed
        } else {
            problems.append("\(name(.passwordCost)) must be interactive or minimum")
        }
        c.maxConcurrentHashes = int(.maxConcurrentHashes, c.maxConcurrentHashes)
        c.maxHashWaiters = int(.maxHashWaiters, c.maxHashWaiters)
        c.sessionLifetime = double(.sessionLifetime, c.sessionLifetime)
        c.refreshLifetime = double(.refreshLifetime, c.refreshLifetime)
        c.sessionCacheEntries = int(.sessionCacheEntries, c.sessionCacheEntries)
        c.sessionCacheSeconds = double(.sessionCacheSeconds, c.sessionCacheSeconds)
        c.deviceLoginsPerAddress = int(.deviceLoginsPerAddress, c.deviceLoginsPerAddress)
        c.failedRefreshesPerAddress = int(.failedRefreshesPerAddress, c.failedRefreshesPerAddress)
        c.registrationsPerAddress = int(.registrationsPerAddress, c.registrationsPerAddress)
        c.failedLoginsPerAccountAndAddress = int(.failedLoginsPerAccountAndAddress, c.failedLoginsPerAccountAndAddress)
        c.failedLoginsPerAddress = int(.failedLoginsPerAddress, c.failedLoginsPerAddress)
        c.failedLoginsPerAccount = int(.failedLoginsPerAccount, c.failedLoginsPerAccount)
        c.trustedProxies = strings(.trustedProxy)
        for text in c.trustedProxies where AddressRange(text) == nil {
            problems.append("\(name(.trustedProxy)) must be an IP address or a CIDR block (10.0.0.5, 10.0.0.0/24, fd00::/8); got '\(text)'")
        }

        c.operators = strings(.operator)

        c.openGamesPerAccount = int(.openGamesPerAccount, c.openGamesPerAccount)
        c.pendingInvitesPerAccount = int(.pendingInvitesPerAccount, c.pendingInvitesPerAccount)
        c.pendingFriendRequestsPerAccount = int(.pendingFriendRequestsPerAccount, c.pendingFriendRequestsPerAccount)
        c.maxMatchesPerAccount = int(.maxMatchesPerAccount, c.maxMatchesPerAccount)
        c.maxTickRate = int(.maxTickRate, c.maxTickRate)

        c.chatSocketsPerAccount = int(.chatSocketsPerAccount, c.chatSocketsPerAccount)
        c.chatOutboxBytes = int(.chatOutboxBytes, c.chatOutboxBytes)
        c.chatMessageBytes = int(.chatMessageBytes, c.chatMessageBytes)
        c.chatRate = double(.chatRate, c.chatRate)
        c.chatBurst = int(.chatBurst, c.chatBurst)
        c.chatMessagesPerChannel = int(.chatMessagesPerChannel, c.chatMessagesPerChannel)
        c.chatRetention = double(.chatRetention, c.chatRetention)
        c.chatPruneInterval = double(.chatPruneInterval, c.chatPruneInterval)

        c.tokenExpiry = int(.tokenExpiry, c.tokenExpiry)
        c.tokenTimeout = int(.tokenTimeout, c.tokenTimeout)

        c.connectionBudget = int(.connectionBudget, c.connectionBudget)
        c.memoryBudget = int(.memoryBudget, c.memoryBudget)
        c.overBudgetGrace = double(.overBudgetGrace, c.overBudgetGrace)
        c.packetsPerSecond = double(.packetsPerSecond, c.packetsPerSecond)
        c.packetBurst = double(.packetBurst, c.packetBurst)
        c.matchIdle = double(.matchIdle, c.matchIdle)
        c.arenaTickRate = int(.arenaTickRate, c.arenaTickRate)
        c.gameThreads = optionalInt(.gameThreads)
        if let text = optionalString(.cpus) {
            if let list = CPUList(parsing: text) {
                c.cpus = list
            } else {
                problems.append("\(name(.cpus)) must be a CPU list like 0 or 0,2-3; got '\(text)'")
            }
        }

        if let text = optionalString(.playURL) {
            do {
                c.playURL = try PlayEndpoint(parsing: text)
            } catch {
                problems.append("\(name(.playURL)) \(error.description)")
            }
        }
        c.playMaxPlayers = int(.playMaxPlayers, c.playMaxPlayers)
        c.playFrameBytes = int(.playFrameBytes, c.playFrameBytes)
        c.playFrameRate = double(.playFrameRate, c.playFrameRate)
        c.playFrameBurst = double(.playFrameBurst, c.playFrameBurst)
        c.playOutboundFrames = int(.playOutboundFrames, c.playOutboundFrames)

        c.reportRetryInterval = double(.reportRetryInterval, c.reportRetryInterval)
        c.matchSweepInterval = double(.matchSweepInterval, c.matchSweepInterval)
        c.unreportedMatchGrace = double(.unreportedMatchGrace, c.unreportedMatchGrace)
        return c
    }
}
