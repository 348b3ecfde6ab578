import ControlPlane
import Foundation

extension ServeConfiguration {
    /// Checks every setting against its ``ServeSetting/bounds`` and the rules between settings;
    /// throws every problem at once, each named by `naming` (by default the flag).
    public func validate(naming: (ServeSetting) -> String = { $0.flag }) throws(ServeConfigurationError) {
        var problems: [String] = []
        for setting in ServeSetting.allCases {
            guard let bounds = setting.bounds, let value = number(setting) else { continue }
            if !bounds.contains(value) {
                let unit = setting.unit.isEmpty ? "" : " " + setting.unit
                problems.append("\(naming(setting)) must be \(Self.text(bounds.lowerBound))...\(Self.text(bounds.upperBound))\(unit)")
            }
        }
        if (tlsCertificatePath == nil) != (tlsKeyPath == nil) {
            problems.append("\(naming(.tlsCert)) and \(naming(.tlsKey)) go together")
        }
        if udp.port != 0, Int(udp.port) + resolvedGameThreads - 1 > 65_535 {
            problems.append("\(naming(.udp))'s port plus \(naming(.gameThreads)) must stay within 65535 (one port per worker)")
        }
        if databasePasswordFile != nil {
            if case .postgres(let location) = resolvedDatabase {
                if location.password != nil {
                    problems.append("\(naming(.databasePasswordFile)) and a password in \(naming(.database)) are one too many: give one")
                }
            } else {
                problems.append("\(naming(.databasePasswordFile)) is for a PostgreSQL \(naming(.database))")
            }
        }
        if memoryBudget < connectionBudget {
            problems.append("\(naming(.memoryBudget)) must be at least \(naming(.connectionBudget))")
        }
        if !problems.isEmpty { throw ServeConfigurationError(problems: problems) }
    }

    /// The setting's value as a number, where it is one (nil for text, lists and an unset
    /// `--seconds`).
    public func number(_ setting: ServeSetting) -> Double? {
        switch setting {
        case .maxClients: Double(maxClients)
        case .updateInterval: updateInterval
        case .seconds: runSeconds
        case .maxConcurrentHashes: Double(maxConcurrentHashes)
        case .maxHashWaiters: Double(maxHashWaiters)
        case .sessionLifetime: sessionLifetime
        case .refreshLifetime: refreshLifetime
        case .sessionCacheEntries: Double(sessionCacheEntries)
        case .sessionCacheSeconds: sessionCacheSeconds
        case .deviceLoginsPerAddress: Double(deviceLoginsPerAddress)
        case .failedRefreshesPerAddress: Double(failedRefreshesPerAddress)
        case .registrationsPerAddress: Double(registrationsPerAddress)
        case .failedLoginsPerAccountAndAddress: Double(failedLoginsPerAccountAndAddress)
        case .failedLoginsPerAddress: Double(failedLoginsPerAddress)
        case .failedLoginsPerAccount: Double(failedLoginsPerAccount)
        case .openGamesPerAccount: Double(openGamesPerAccount)
        case .pendingInvitesPerAccount: Double(pendingInvitesPerAccount)
        case .pendingFriendRequestsPerAccount: Double(pendingFriendRequestsPerAccount)
        case .maxMatchesPerAccount: Double(maxMatchesPerAccount)
        case .maxTickRate: Double(maxTickRate)
        case .chatSocketsPerAccount: Double(chatSocketsPerAccount)
        case .chatOutboxBytes: Double(chatOutboxBytes)
        case .chatMessageBytes: Double(chatMessageBytes)
        case .chatRate: chatRate
        case .chatBurst: Double(chatBurst)
        case .chatMessagesPerChannel: Double(chatMessagesPerChannel)
        case .chatRetention: chatRetention
        case .chatPruneInterval: chatPruneInterval
        case .tokenExpiry: Double(tokenExpiry)
        case .tokenTimeout: Double(tokenTimeout)
        case .connectionBudget: Double(connectionBudget)
        case .memoryBudget: Double(memoryBudget)
        case .overBudgetGrace: overBudgetGrace
        case .packetsPerSecond: packetsPerSecond
        case .packetBurst: packetBurst
        case .matchIdle: matchIdle
        case .arenaTickRate: Double(arenaTickRate)
        case .gameThreads: gameThreads.map(Double.init)
        case .reportRetryInterval: reportRetryInterval
        case .matchSweepInterval: matchSweepInterval
        case .unreportedMatchGrace: unreportedMatchGrace
        case .playMaxPlayers: Double(playMaxPlayers)
        case .playFrameBytes: Double(playFrameBytes)
        case .playFrameRate: playFrameRate
        case .playFrameBurst: playFrameBurst
        case .playOutboundFrames: Double(playOutboundFrames)
        case .udp, .http, .publicAddress, .protocolID, .dataDir, .database, .databasePasswordFile, .tlsCert, .tlsKey, .metricsToken,
            .passwordCost, .trustedProxy, .cpus, .sqliteSync, .webRoot, .operator, .playURL:
            nil
        }
    }

    /// The setting's value as `--help` and a startup line show it (secrets hidden; nil when unset).
    public func display(_ setting: ServeSetting) -> String? {
        switch setting {
        case .udp: udp.description
        case .http: http.description
        case .publicAddress: publicAddresses.isEmpty ? nil : publicAddresses.map(\.description).joined(separator: ",")
        case .protocolID: "0x" + String(protocolID, radix: 16)
        case .dataDir: dataDirectory
        case .database: database?.description ?? "sqlite:" + (dataDirectory as NSString).appendingPathComponent("arbiter.sqlite") + " (--data-dir's)"
        case .databasePasswordFile: databasePasswordFile
        case .tlsCert: tlsCertificatePath
        case .tlsKey: tlsKeyPath
        case .metricsToken: metricsToken == nil ? nil : "<secret>"
        case .passwordCost: passwordCost.rawValue
        case .sqliteSync: sqliteSync.rawValue
        case .trustedProxy: trustedProxies.isEmpty ? nil : trustedProxies.joined(separator: ",")
        case .operator: operators.isEmpty ? nil : operators.joined(separator: ",")
        case .webRoot: webRoot
        case .gameThreads: gameThreads.map(String.init) ?? "the number of CPUs this process may use"
        case .cpus: cpus?.description
        case .playURL: playURL?.description
        default: number(setting).map(Self.text)
        }
    }

    /// `--help` for a setting: its summary, range, default and environment variable.
    public static func help(_ setting: ServeSetting) -> String {
        var parts = [setting.summary]
        if let bounds = setting.bounds {
            let unit = setting.unit.isEmpty ? "" : " " + setting.unit
            parts.append("Range \(text(bounds.lowerBound))...\(text(bounds.upperBound))\(unit).")
        }
        if let value = ServeConfiguration().display(setting) { parts.append("Default: \(value).") }
        parts.append("Env: \(setting.environmentVariable).")
        return parts.joined(separator: " ")
    }

    /// A number without a needless fraction: 1024, 0.002, 1e+09.
    static func text(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// Decimal or 0x-hex (nil when neither).
    public static func parseProtocolID(_ text: String) -> UInt64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
        return UInt64(text)
    }
}
