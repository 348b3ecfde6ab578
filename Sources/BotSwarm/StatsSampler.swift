import Foundation
import MatchContract
import Synchronization

/// What the sampler reads from the server once a second.
struct ServerSample: Sendable {
    /// The server's running tick figures since it started (ms).
    var tick: Distribution?
    var overruns: UInt64 = 0
    var phasesP99Ms: [String: Double] = [:]
    /// The server's tick pass durations since it started, and each phase's by its JSON name
    /// (`receive`, `simulate`, `snapshot_send`); nil and empty from a server that does not
    /// publish them (older).
    var tickHistogram: DurationHistogram?
    var phaseHistograms: [String: DurationHistogram] = [:]
    var cpuSeconds = 0.0
    /// CPU time of the server's game threads alone, and the player-ticks they served (nil when
    /// the server does not say: then the connected clients at 60 Hz stand in).
    var gameThreadCpuSeconds: Double?
    var playerTicks: UInt64?
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
        sample.tickHistogram = Self.histogram(tick["histogram"])
        if let phases = tick["phases"] as? [String: Any] {
            for (name, value) in phases {
                let phase = value as? [String: Any]
                sample.phasesP99Ms[name] = phase?["p99_ms"] as? Double ?? 0
                if let histogram = Self.histogram(phase?["histogram"]) { sample.phaseHistograms[name] = histogram }
            }
        }
        sample.cpuSeconds = stats["cpu_seconds"] as? Double ?? 0
        sample.gameThreadCpuSeconds = stats["game_thread_cpu_seconds"] as? Double
        sample.playerTicks = (stats["player_ticks"] as? Int).map { UInt64(max(0, $0)) }
        sample.residentMemory = UInt64(stats["resident_memory_bytes"] as? Int ?? 0)
        sample.clients = stats["connected_clients"] as? Int ?? 0
        sample.matches = stats["matches"] as? Int ?? 0
        sample.bytesIn = Double(stats["bytes_in"] as? Int ?? 0)
        sample.bytesOut = Double(stats["bytes_out"] as? Int ?? 0)
        return sample
    }

    /// `{"buckets": [[lower_us, count], …]}` as the stats route publishes it; nil when absent or
    /// malformed (a server that is not ours to trust with a trap).
    static func histogram(_ json: Any?) -> DurationHistogram? {
        guard let object = json as? [String: Any], let buckets = object["buckets"] as? [Any] else { return nil }
        var pairs: [(lowerMicroseconds: UInt64, count: UInt64)] = []
        pairs.reserveCapacity(buckets.count)
        for bucket in buckets {
            guard let pair = bucket as? [Any], pair.count == 2, let lower = pair[0] as? Int, let count = pair[1] as? Int, lower >= 0, count >= 0
            else { return nil }
            pairs.append((UInt64(lower), UInt64(count)))
        }
        return DurationHistogram(buckets: pairs)
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
        sample.gameThreadCpuSeconds = Self.gameThreadCPUSeconds(pid: pid)
        if let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) {
            let parts = statm.split(separator: " ")
            if parts.count > 1, let pages = UInt64(parts[1]) { sample.residentMemory = pages * UInt64(sysconf(Int32(_SC_PAGESIZE))) }
        }
        sample.clients = connected()
        return sample
    }

    /// The CPU time of the process's game threads (`arbiter-game-N`, or `arbiter-echo`), from
    /// each thread's schedstat (nanoseconds on the CPU); nil when it has none.
    static func gameThreadCPUSeconds(pid: Int32) -> Double? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        var nanoseconds: UInt64 = 0
        var found = false
        for task in tasks {
            guard let name = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8),
                name.hasPrefix("arbiter-game") || name.hasPrefix("arbiter-echo"),
                let schedstat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8),
                let onCPU = schedstat.split(separator: " ").first.flatMap({ UInt64($0) })
            else { continue }
            nanoseconds &+= onCPU
            found = true
        }
        return found ? Double(nanoseconds) / 1_000_000_000 : nil
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
        /// The server's tick readings, and the report's tick figures made from them.
        var tickLog = ServerTickLog(window: 0...0)
        var cpuSeconds = 0.0
        var peakMemory: UInt64 = 0
        var baselineMemory: UInt64 = 0
        var bandwidthOverTime: [[Double]] = []
        var lastBytes: (Double, Double, Double)?
        /// (seconds since start, CPU seconds, connected clients), for the CPU per player.
        var cpuOverTime: [(Double, Double, Int)] = []
        /// (seconds since start, game threads' CPU seconds, player-ticks if the server counts
        /// them, connected clients), for the game's own CPU per player-tick.
        var gameCpuOverTime: [(Double, Double, UInt64?, Int)] = []

        var tickFigures: ServerTickFigures { tickLog.figures }
        /// Over the run's window (see ``ServerTickLog``), in ms.
        var tick: Distribution { tickFigures.tick }
        var overruns: UInt64 { tickFigures.overruns }
        var phasesP99Ms: [String: Double] { tickFigures.phasesP99Ms }
        /// [seconds since the start, that second's tick p99 in ms].
        var tickOverTime: [[Double]] { tickLog.tickOverTime }
    }

    init(probe: any ServerProbe) { self.probe = probe }

    var collected: Collected { state.withLock { $0 } }

    /// The server's memory before any bot plays.
    func takeBaseline() async {
        guard let sample = await probe.sample() else { return }
        state.withLock { $0.baselineMemory = sample.residentMemory }
    }

    /// The play after the ramp, in seconds from the run's start; nil for a ramp or duration that
    /// is negative or not finite (no window to take).
    static func window(ramp: Double, duration: Double) -> ClosedRange<Double>? {
        guard ramp.isFinite, duration.isFinite, ramp >= 0, duration >= 0 else { return nil }
        return ramp...(ramp + duration)
    }

    /// When to read the server, in seconds from the run's start: every whole second up to
    /// `length`, and the window's two ends (a whole second serves as one when it falls within a
    /// millisecond of it).
    static func schedule(length: Double, window: ClosedRange<Double>?) -> [ServerTickLog.Instant] {
        var instants = length.isFinite && length >= 1 ? (1...Int(length.rounded(.down))).map { ServerTickLog.Instant(at: Double($0), onTheSecond: true) } : []
        for bound in [window?.lowerBound, window?.upperBound].compactMap({ $0 }) where bound >= 0 && bound <= length {
            if abs(bound - bound.rounded()) < ServerTickLog.tolerance && bound.rounded() >= 1 { continue }
            if instants.contains(where: { !$0.onTheSecond && abs($0.at - bound) < ServerTickLog.tolerance }) { continue }
            instants.append(.init(at: bound, onTheSecond: false))
        }
        return instants.sorted { $0.at < $1.at }
    }

    /// Samples from `start` (the run's start, when the first bot connects: every time in the
    /// series counts from it) until `deadline`: once a second, and at the two ends of `window`
    /// (seconds from `start`: the play after the ramp), over which the report's tick figures
    /// are. Without a window they are over the whole sampling.
    func run(
        from start: Date, window: ClosedRange<Double>? = nil, until deadline: Date, bots: any BotPopulation, total: Int, failedJoins: Int, quiet: Bool
    ) async {
        let length = deadline.timeIntervalSince(start)
        state.withLock { $0.tickLog = ServerTickLog(window: window ?? 0...Swift.max(0, length)) }
        var samples = 0
        for instant in Self.schedule(length: length, window: window) {
            let wait = instant.at - Date().timeIntervalSince(start)
            if wait > 0 { try? await Task.sleep(for: .seconds(wait)) }
            if Task.isCancelled { break }
            guard let sample = await probe.sample() else { continue }
            let elapsed = Date().timeIntervalSince(start)
            let lastSecondP99 = state.withLock { collected -> Double? in
                collected.tickLog.add(sample, at: instant)
                collected.peakMemory = max(collected.peakMemory, sample.residentMemory)
                // The window's own readings are for the tick figures only; rates stay per second.
                guard instant.onTheSecond else { return nil }
                collected.cpuSeconds = sample.cpuSeconds
                collected.cpuOverTime.append((elapsed, sample.cpuSeconds, sample.clients))
                if let gameCPU = sample.gameThreadCpuSeconds {
                    collected.gameCpuOverTime.append((elapsed, gameCPU, sample.playerTicks, sample.clients))
                }
                if let bytesIn = sample.bytesIn, let bytesOut = sample.bytesOut {
                    if let last = collected.lastBytes, elapsed > last.0 {
                        collected.bandwidthOverTime.append([elapsed, (bytesIn - last.1) / (elapsed - last.0), (bytesOut - last.2) / (elapsed - last.0)])
                    }
                    collected.lastBytes = (elapsed, bytesIn, bytesOut)
                }
                return collected.tickLog.tickOverTime.last.flatMap { $0.first == instant.at ? $0.last : nil }
            }
            guard instant.onTheSecond else { continue }
            samples += 1
            // Every second on a terminal (in place); every fifth second elsewhere (a line each).
            guard !quiet, StatusLine.onTerminal || samples % 5 == 0 else { continue }
            let rtts = Distribution(bots.liveRoundTripTimes())
            let line = String(
                format: "bots connected %d/%d  games %d  server tick p99 %.2f ms  client RTT p50/p99 %.0f/%.0f ms  errors %d   ",
                bots.connectedCount, total, sample.matches, lastSecondP99 ?? 0, rtts.p50, rtts.p99,
                bots.errorCount + failedJoins)
            StatusLine.write(StatusLine.onTerminal ? line : String(line.dropLast(3)))
        }
        if !quiet { StatusLine.finish() }
    }

    /// Adds one CPU reading (what `run` does every second).
    func record(elapsed: Double, cpuSeconds: Double, clients: Int) {
        state.withLock { $0.cpuOverTime.append((elapsed, cpuSeconds, clients)) }
    }

    /// The game threads' own CPU per player-tick (µs) between `from` and `to` seconds of the run:
    /// their CPU time over the player-ticks the server counted (or, from a server that does not
    /// count them, the connected clients' seconds at `tickRate`). Nil without two readings.
    func gameThreadMicrosPerPlayerTick(from: Double, to: Double, tickRate: Double = 60) -> Double? {
        let points = collected.gameCpuOverTime.filter { $0.0 >= from && $0.0 <= to }
        guard let first = points.first, let last = points.last, points.count > 1 else { return nil }
        let playerTicks: Double
        if let start = first.2, let end = last.2, end > start {
            playerTicks = Double(end - start)
        } else {
            var playerSeconds = 0.0
            for (a, b) in zip(points, points.dropFirst()) { playerSeconds += (b.0 - a.0) * Double(a.3 + b.3) / 2 }
            playerTicks = playerSeconds * tickRate
        }
        guard playerTicks > 0 else { return nil }
        return (last.1 - first.1) / playerTicks * 1_000_000
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
