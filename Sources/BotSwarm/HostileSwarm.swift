import ArbiterClient
import Foundation
import GameCore
import MatchContract
import GameRuntime
import NetProtocol
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a hostile client with a valid token does to the game server.
public enum HostileAttack: String, CaseIterable, Sendable {
    /// 8 KiB reliable messages 1...63 with id 0 never sent, and 32 KiB reassemblies never
    /// finished: everything waits, nothing is delivered.
    case holdBack = "hold-back"
    /// Reliable messages the server echoes, and never an acknowledgement of anything.
    case noAck = "no-ack"
    /// Packets as fast as the socket takes them.
    case flood
}

public struct HostileSwarmOptions: Sendable {
    public var server: NetAddress
    public var key: SymmetricKey
    public var protocolID: UInt64
    public var hostiles: Int
    /// Honest players in the same match, whose snapshot rate is measured.
    public var honest: Int
    public var attack: HostileAttack = .holdBack
    public var seed: UInt64
    /// Seconds the attack runs (hostiles start together, after the honest players connected).
    public var duration: Double = 20
    public var threads = 2
    public var serverPID: Int32?
    /// The server's `/metrics`, to read what its connections held.
    public var metricsURL: String?

    public init(server: NetAddress, key: SymmetricKey, protocolID: UInt64, hostiles: Int, honest: Int, seed: UInt64) {
        self.server = server
        self.key = key
        self.protocolID = protocolID
        self.hostiles = hostiles
        self.honest = honest
        self.seed = seed
    }
}

public struct HostileSwarmReport: Codable, Sendable {
    public var attack: String
    public var hostiles: Int
    public var hostilesConnected: Int
    /// Hostiles the server disconnected during the run, and how long after their first forged
    /// packet (seconds).
    public var hostilesDisconnected: Int
    public var disconnectSeconds: Distribution
    public var forgedPackets: Int
    public var honest: Int
    public var honestConnectedThroughout: Int
    /// Snapshots each honest player received per second during the attack (lowest and mean).
    public var honestSnapshotsPerSecondMin: Double
    public var honestSnapshotsPerSecondMean: Double
    public var serverResidentBytesBefore: UInt64?
    public var serverPeakResidentBytes: UInt64?
    /// From the server's /metrics: the most any one connection held, and all together.
    public var serverConnectionPeakBytes: Double?
    public var serverConnectionMemoryPeakBytes: Double?
    public var serverOverBudgetDisconnects: Double?
    public var serverRateLimitedPackets: Double?
    /// Ticks the server skipped because a pass ran late (all its matches together).
    public var serverTickOverruns: Double?

    public var table: String {
        func mib(_ value: Double?) -> String { value.map { String(format: "%.1f MiB", $0 / 1_048_576) } ?? "n/a" }
        return """
            hostile run: \(hostiles) × \(attack), \(honest) honest players
              hostiles connected           \(hostilesConnected)
              disconnected by the server   \(hostilesDisconnected)  (after first forged packet: p50 \(String(format: "%.2f", disconnectSeconds.p50)) s, p99 \(String(format: "%.2f", disconnectSeconds.p99)) s, max \(String(format: "%.2f", disconnectSeconds.max)) s)
              forged packets sent          \(forgedPackets)
              one connection held at most  \(mib(serverConnectionPeakBytes))
              all connections, at most     \(mib(serverConnectionMemoryPeakBytes))
              server RSS before / peak     \(mib(serverResidentBytesBefore.map { Double($0) })) / \(mib(serverPeakResidentBytes.map { Double($0) }))
              over_budget disconnects      \(serverOverBudgetDisconnects.map { String(Int($0)) } ?? "n/a")
              rate-limited packets         \(serverRateLimitedPackets.map { String(Int($0)) } ?? "n/a")
              server tick overruns         \(serverTickOverruns.map { String(Int($0)) } ?? "n/a")
              honest players connected     \(honestConnectedThroughout) of \(honest)
              honest snapshots per second  min \(String(format: "%.1f", honestSnapshotsPerSecondMin)), mean \(String(format: "%.1f", honestSnapshotsPerSecondMean))
            """
    }
}

/// Hostile clients and honest players against a real game server, all in its default arena
/// (tokens minted with the server's key): what the hostiles can make the server hold, how soon
/// it disconnects them, and whether the honest players keep their snapshots meanwhile. Bounded
/// by `duration`; loopback only.
public func runHostileSwarm(_ options: HostileSwarmOptions) async throws -> HostileSwarmReport {
    let run = try HostileRun(options)
    let before = options.serverPID.flatMap { ProcessSampler.residentBytes(pid: $0) }
    await run.start().value
    var report = run.report()
    report.serverResidentBytesBefore = before
    report.serverPeakResidentBytes = options.serverPID.flatMap { ProcessSampler.peakResidentBytes(pid: $0) }
    if let url = options.metricsURL.flatMap(URL.init(string:)), let (data, _) = try? await URLSession.shared.data(from: url),
        let text = String(data: data, encoding: .utf8)
    {
        let values = PrometheusValues(text)
        // Gauges are per game worker (`{worker="N"}`): the worst one is the server's.
        report.serverConnectionPeakBytes = values.maximum(of: "arbiter_connection_peak_bytes")
        report.serverConnectionMemoryPeakBytes = values.maximum(of: "arbiter_connection_memory_peak_bytes")
        report.serverOverBudgetDisconnects = values["arbiter_channel_faults_total{fault=\"over_budget\"}"]
        report.serverRateLimitedPackets = values["arbiter_rate_limited_packets_total"]
        report.serverTickOverruns = values["arbiter_tick_overruns_total"]
    }
    return report
}

/// Samples of one sample-less Prometheus text: `name{labels} value` lines, keyed as written.
struct PrometheusValues {
    private var values: [String: Double] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
    }

    subscript(key: String) -> Double? { values[key] }

    /// The largest sample of metric `name` over all its label sets.
    func maximum(of name: String) -> Double? {
        values.filter { $0.key == name || $0.key.hasPrefix(name + "{") }.values.max()
    }
}

/// `@unchecked Sendable`: each worker thread owns its clients outright; the report is read only
/// after every thread has finished.
final class HostileRun: @unchecked Sendable {
    final class Hostile {
        let token: ConnectToken
        var client: TransportClient?
        var sequence: UInt16 = 0
        var step = 0
        var everConnected = false
        var firstForged: Double?
        var disconnectedAfter: Double?
        init(token: ConnectToken) { self.token = token }
    }

    final class Honest {
        let index: Int
        let token: ConnectToken
        var client: GameClient<ArenaRules>?
        var connectedThroughout = true
        var snapshotsAtAttack: UInt64 = 0
        var snapshotsAtEnd: UInt64 = 0
        init(index: Int, token: ConnectToken) {
            self.index = index
            self.token = token
        }
    }

    let options: HostileSwarmOptions
    let hostiles: [Hostile]
    let honest: [Honest]
    /// Forged packets each hostile sends per tick: 8 (480 a second) when few, fewer when many,
    /// so that all together send at most `maxForgedPerSecond`.
    let packetsPerTick: Int
    static let maxForgedPerSecond = 60_000
    let forged = Atomic<Int>(0)
    /// Honest players get this long to connect and settle before the attack starts.
    let settle = 3.0
    private var attackStart = 0.0

    init(_ options: HostileSwarmOptions) throws {
        self.options = options
        let fair = Self.maxForgedPerSecond / (60 * max(1, options.hostiles))
        packetsPerTick = options.attack == .flood ? 40 : max(1, min(8, fair))
        var random = SeededRandomSource(seed: options.seed)
        let now = SystemClock().unixSeconds()
        func token(_ id: UInt64) throws -> ConnectToken {
            try ConnectToken.generate(
                publicAddresses: [options.server], expireSeconds: 120, timeoutSeconds: 10, clientID: id, protocolID: options.protocolID,
                privateKey: options.key, userData: MatchTicket(matchID: 0, playerID: id, displayName: "p\(id % 100_000)").encoded(), nowUnix: now,
                random: &random)
        }
        honest = try (0..<options.honest).map { Honest(index: $0, token: try token(options.seed &+ 1 &+ UInt64($0))) }
        hostiles = try (0..<options.hostiles).map { Hostile(token: try token(options.seed &+ 1_000_000 &+ UInt64($0))) }
    }

    func start() -> Task<Void, Never> {
        let clock = SystemClock()
        let begin = clock.monotonicSeconds()
        attackStart = begin + settle
        let end = attackStart + options.duration
        let threads = options.threads
        // The honest players get a thread of their own (the last), so that what they see is the
        // server's doing, not the load tester's own threads starving them.
        return onWorkerThreads(threads + 1, name: "botswarm-hostile") { [self] worker in
            if worker == threads {
                drive([], honest, end: end)
            } else {
                drive(hostiles.enumerated().filter { $0.offset % threads == worker }.map(\.element), [], end: end)
            }
        }
    }

    private func drive(_ hostiles: [Hostile], _ honest: [Honest], end: Double) {
        let clock = SystemClock()
        var pacer = TickPacer(rate: 60, start: clock.monotonicSeconds())
        var ticks = 0
        var attackBegun = false
        while clock.monotonicSeconds() < end {
            let now = clock.monotonicSeconds()
            for player in honest {
                if player.client == nil {
                    player.client = try? GameClient(settings: MatchSettings(tickRate: 60), bind: NetAddress(ipv4: 127, 0, 0, 1, port: 0))
                    player.client?.simulation.predicts = false
                    player.client?.connect(token: player.token)
                }
                guard let client = player.client else { continue }
                client.tick(input: ArenaBot.input(tick: ticks, bot: player.index), until: 0)
                if now >= attackStart && !attackBegun { player.snapshotsAtAttack = client.simulation.snapshotsReceived }
                if now >= attackStart && client.state != .connected { player.connectedThroughout = false }
            }
            if now >= attackStart { attackBegun = true }
            for hostile in hostiles where now >= attackStart - 1 && hostile.disconnectedAfter == nil {
                if hostile.client == nil {
                    hostile.client = try? TransportClient(bind: NetAddress(ipv4: 127, 0, 0, 1, port: 0))
                    hostile.client?.connect(token: hostile.token)
                }
                guard let client = hostile.client else { continue }
                client.poll(until: 0)
                if client.state == .connected {
                    hostile.everConnected = true
                    guard now >= attackStart else { continue }
                    if hostile.firstForged == nil { hostile.firstForged = now }
                    // Within the server's sustained packet allowance (600/s), so the memory
                    // paths, not the rate limit, are what stops the attack; and within what
                    // this machine's load-tester threads can encrypt and send in all.
                    for _ in 0..<packetsPerTick {
                        if client.send(forgedPacket(hostile)) { forged.add(1, ordering: .relaxed) }
                    }
                } else if hostile.everConnected, let first = hostile.firstForged {
                    hostile.disconnectedAfter = now - first
                    hostile.client = nil
                }
            }
            ticks += 1
            pacer.waitForNextTick()
        }
        for player in honest {
            player.snapshotsAtEnd = player.client?.simulation.snapshotsReceived ?? 0
            player.client?.disconnect()
        }
        for hostile in hostiles { hostile.client?.disconnect() }
    }

    private func forgedPacket(_ hostile: Hostile) -> [UInt8] {
        defer {
            hostile.sequence &+= 1
            hostile.step += 1
        }
        let fragment = [UInt8](repeating: 0xEE, count: 384)
        let entries: [RawChannelPacket.Entry]
        switch options.attack {
        case .holdBack:
            if hostile.step % 2 == 0 {
                // 8 KiB messages 1...63 (22 fragments each), id 0 never sent.
                let step = hostile.step / 2
                let message = UInt16(1 + (step / 8) % 63)
                let first = (step % 8) * 3
                entries = (first..<min(first + 3, 22)).map { index in
                    RawChannelPacket.Entry(
                        channel: MatchChannel.reliable.rawValue, id: message, fragment: (index, 22),
                        payload: index == 21 ? [UInt8](repeating: 0xEE, count: 128) : fragment)
                }
            } else {
                // 32 KiB messages (86 fragments) on the channel the server never reads, never finished.
                let step = hostile.step / 2
                let message = UInt16((step / 28) % 16)
                let first = (step % 28) * 3
                entries = (first..<min(first + 3, 85)).map { index in
                    RawChannelPacket.Entry(channel: MatchChannel.largeSnapshot.rawValue, id: message, fragment: (index, 86), payload: fragment)
                }
            }
        case .noAck:
            entries = [RawChannelPacket.Entry(channel: MatchChannel.reliable.rawValue, id: UInt16(truncatingIfNeeded: hostile.step), payload: [UInt8](repeating: 0x11, count: 300))]
        case .flood:
            entries = [RawChannelPacket.Entry(channel: MatchChannel.input.rawValue, id: nil, payload: [0])]
        }
        return RawChannelPacket.encode(sequence: hostile.sequence, ack: nil, entries: entries.isEmpty ? [RawChannelPacket.Entry(channel: MatchChannel.input.rawValue, id: nil, payload: [0])] : entries)
    }

    func report() -> HostileSwarmReport {
        let disconnects = hostiles.compactMap(\.disconnectedAfter)
        let rates = honest.map { Double($0.snapshotsAtEnd &- $0.snapshotsAtAttack) / options.duration }
        return HostileSwarmReport(
            attack: options.attack.rawValue, hostiles: hostiles.count, hostilesConnected: hostiles.filter(\.everConnected).count,
            hostilesDisconnected: disconnects.count, disconnectSeconds: Distribution(disconnects), forgedPackets: forged.load(ordering: .relaxed),
            honest: honest.count, honestConnectedThroughout: honest.filter(\.connectedThroughout).count,
            honestSnapshotsPerSecondMin: rates.min() ?? 0, honestSnapshotsPerSecondMean: rates.isEmpty ? 0 : rates.reduce(0, +) / Double(rates.count))
    }
}

/// A process's memory from /proc: resident now (VmRSS) and at its peak (VmHWM).
enum ProcessSampler {
    static func residentBytes(pid: Int32) -> UInt64? { statusField("VmRSS", pid: pid) }
    static func peakResidentBytes(pid: Int32) -> UInt64? { statusField("VmHWM", pid: pid) }

    private static func statusField(_ name: String, pid: Int32) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        // A line reads "VmRSS:\t   211200 kB".
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let digits = line.dropFirst(name.count + 1).filter(\.isNumber)
            return UInt64(String(digits)).map { $0 * 1024 }
        }
        return nil
    }
}
