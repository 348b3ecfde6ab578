import Foundation
import Synchronization

/// What the sampler reads from the server once a second.
struct ServerSample: Sendable {
    var tick: Distribution?
    var overruns: UInt64 = 0
    var phasesP99Ms: [String: Double] = [:]
    var cpuSeconds = 0.0
    var residentMemory: UInt64 = 0
    var clients = 0
    var matches = 0
    var bytesIn: Double?
    var bytesOut: Double?
}

/// Where samples come from: the control port's stats route, or /proc for a server without one
/// (`arbiter echo`).
protocol ServerProbe: Sendable {
    func sample() async -> ServerSample?
}

struct StatsRouteProbe: ServerProbe {
    let port: ControlPort
    let token: String

    func sample() async -> ServerSample? {
        guard let stats = try? await port.expect("GET", "/v1/server/stats", token: token), let tick = stats["tick"] as? [String: Any] else { return nil }
        var distribution = Distribution([])
        distribution.count = tick["count"] as? Int ?? 0
        distribution.p50 = tick["p50_ms"] as? Double ?? 0
        distribution.p90 = tick["p90_ms"] as? Double ?? 0
        distribution.p99 = tick["p99_ms"] as? Double ?? 0
        distribution.p999 = tick["p999_ms"] as? Double ?? 0
        distribution.max = tick["max_ms"] as? Double ?? 0
        var sample = ServerSample(tick: distribution)
        sample.overruns = UInt64(tick["overruns"] as? Int ?? 0)
        if let phases = tick["phases"] as? [String: Any] {
            for (name, value) in phases { sample.phasesP99Ms[name] = (value as? [String: Any])?["p99_ms"] as? Double ?? 0 }
        }
        sample.cpuSeconds = stats["cpu_seconds"] as? Double ?? 0
        sample.residentMemory = UInt64(stats["resident_memory_bytes"] as? Int ?? 0)
        sample.clients = stats["connected_clients"] as? Int ?? 0
        sample.matches = stats["matches"] as? Int ?? 0
        sample.bytesIn = Double(stats["bytes_in"] as? Int ?? 0)
        sample.bytesOut = Double(stats["bytes_out"] as? Int ?? 0)
        return sample
    }
}

/// CPU time and resident memory of a local process from /proc (Linux).
struct ProcessProbe: ServerProbe {
    let pid: Int32
    /// Clients are not visible from outside: the swarm's own count stands in.
    let connected: @Sendable () -> Int

    func sample() async -> ServerSample? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        var sample = ServerSample()
        sample.cpuSeconds = (user + system) / ticksPerSecond
        if let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) {
            let parts = statm.split(separator: " ")
            if parts.count > 1, let pages = UInt64(parts[1]) { sample.residentMemory = pages * UInt64(sysconf(Int32(_SC_PAGESIZE))) }
        }
        sample.clients = connected()
        return sample
    }
}

/// The bots as the live line sees them.
protocol BotPopulation: Sendable {
    var connectedCount: Int { get }
    var errorCount: Int { get }
    /// The latest RTT of every connected bot, in ms.
    func liveRoundTripTimes() -> [Double]
}

/// Samples the server once a second, keeps what the report needs and prints the live line.
final class StatsSampler: Sendable {
    let probe: any ServerProbe
    private let state = Mutex(Collected())

    struct Collected: Sendable {
        var tick = Distribution([])
        var overruns: UInt64 = 0
        var phasesP99Ms: [String: Double] = [:]
        var cpuSeconds = 0.0
        var peakMemory: UInt64 = 0
        var baselineMemory: UInt64 = 0
        var tickOverTime: [[Double]] = []
        var bandwidthOverTime: [[Double]] = []
        var lastBytes: (Double, Double, Double)?
        /// (seconds since start, CPU seconds, connected clients), for the CPU per player.
        var cpuOverTime: [(Double, Double, Int)] = []
    }

    init(probe: any ServerProbe) { self.probe = probe }

    var collected: Collected { state.withLock { $0 } }

    /// The server's memory before any bot plays.
    func takeBaseline() async {
        guard let sample = await probe.sample() else { return }
        state.withLock { $0.baselineMemory = sample.residentMemory }
    }

    /// Samples from `start` (the run's start, when the first bot connects: every time in the
    /// series counts from it) until `deadline`.
    func run(from start: Date, until deadline: Date, bots: any BotPopulation, total: Int, failedJoins: Int, quiet: Bool) async {
        var samples = 0
        while Date() < deadline {
            try? await Task.sleep(for: .seconds(1))
            guard let sample = await probe.sample() else { continue }
            let elapsed = Date().timeIntervalSince(start)
            state.withLock { collected in
                if let tick = sample.tick {
                    collected.tick = tick
                    collected.tickOverTime.append([elapsed, tick.p99])
                }
                collected.overruns = sample.overruns
                collected.phasesP99Ms = sample.phasesP99Ms
                collected.cpuSeconds = sample.cpuSeconds
                collected.peakMemory = max(collected.peakMemory, sample.residentMemory)
                collected.cpuOverTime.append((elapsed, sample.cpuSeconds, sample.clients))
                if let bytesIn = sample.bytesIn, let bytesOut = sample.bytesOut {
                    if let last = collected.lastBytes, elapsed > last.0 {
                        collected.bandwidthOverTime.append([elapsed, (bytesIn - last.1) / (elapsed - last.0), (bytesOut - last.2) / (elapsed - last.0)])
                    }
                    collected.lastBytes = (elapsed, bytesIn, bytesOut)
                }
            }
            samples += 1
            // Every second on a terminal (in place); every fifth second elsewhere (a line each).
            guard !quiet, StatusLine.onTerminal || samples % 5 == 0 else { continue }
            let rtts = Distribution(bots.liveRoundTripTimes())
            let line = String(
                format: "bots connected %d/%d  games %d  server tick p99 %.2f ms  client RTT p50/p99 %.0f/%.0f ms  errors %d   ",
                bots.connectedCount, total, sample.matches, sample.tick?.p99 ?? 0, rtts.p50, rtts.p99,
                bots.errorCount + failedJoins)
            StatusLine.write(StatusLine.onTerminal ? line : String(line.dropLast(3)))
        }
        if !quiet { StatusLine.finish() }
    }

    /// Adds one CPU reading (what `run` does every second).
    func record(elapsed: Double, cpuSeconds: Double, clients: Int) {
        state.withLock { $0.cpuOverTime.append((elapsed, cpuSeconds, clients)) }
    }

    /// Server CPU per connected player per second (µs) between `from` and `to` seconds of the
    /// run: CPU used over the player-seconds served.
    func cpuMicrosPerPlayerSecond(from: Double, to: Double) -> Double {
        let points = collected.cpuOverTime.filter { $0.0 >= from && $0.0 <= to }
        guard points.count > 1 else { return 0 }
        var playerSeconds = 0.0
        for (a, b) in zip(points, points.dropFirst()) { playerSeconds += (b.0 - a.0) * Double(a.2 + b.2) / 2 }
        guard playerSeconds > 0, let first = points.first, let last = points.last else { return 0 }
        return (last.1 - first.1) / playerSeconds * 1_000_000
    }
}
