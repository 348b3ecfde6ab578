import Foundation
import Histograms
import MatchContract

/// Percentiles of a sample set, as the report shows them (from a ``SampleHistogram``: within
/// 0.1 % of a recorded sample, nearest rank; `max` exact).
public struct Distribution: Codable, Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double

    /// The distribution of `values` (negative samples count as 0).
    public init(_ values: [Double]) {
        self.init(SampleHistogram(of: values))
    }

    public init(_ histogram: SampleHistogram) {
        count = Int(clamping: histogram.count)
        p50 = histogram.percentile(0.5)
        p90 = histogram.percentile(0.9)
        p99 = histogram.percentile(0.99)
        p999 = histogram.percentile(0.999)
        max = histogram.maxValue
    }

    /// A server's tick durations in milliseconds, from its published buckets: each percentile
    /// and the max are the upper bound of their bucket (within 1 µs, or 0.79 % above 128 µs).
    public init(milliseconds histogram: DurationHistogram) {
        count = Int(clamping: histogram.count)
        p50 = histogram.percentileSeconds(0.5) * 1000
        p90 = histogram.percentileSeconds(0.9) * 1000
        p99 = histogram.percentileSeconds(0.99) * 1000
        p999 = histogram.percentileSeconds(0.999) * 1000
        max = histogram.maxSeconds * 1000
    }

    public func scaled(_ factor: Double) -> Distribution {
        var copy = self
        copy.p50 *= factor
        copy.p90 *= factor
        copy.p99 *= factor
        copy.p999 *= factor
        copy.max *= factor
        return copy
    }
}

/// The run's report: printed as a table, saved as JSON and as an HTML page with SVG charts.
public struct SwarmReport: Codable, Sendable {
    public var bots: Int
    public var playersPerGame: Int
    public var durationSeconds: Double
    public var seed: UInt64
    public var conditions: [String: Double]
    public var connected: Int
    public var failedJoins: Int
    public var disconnectsByReason: [String: Int]
    /// The server's tick pass durations over the run's window (see ``serverTickScope``); `count`
    /// is the passes (from a server without histograms, the match ticks since it started).
    public var serverTickMs: Distribution
    /// Ticks the server skipped to catch up, over the run's window (see ``serverTickScope``).
    public var serverTickOverruns: UInt64
    public var clientRttMs: Distribution
    public var snapshotInterArrivalMs: Distribution
    public var inputAckLatencyMs: Distribution
    public var predictionCorrectionUnits: Distribution
    public var interpolationDelayMs: Distribution
    public var reliableSent: Int
    public var reliableDelivered: Int
    public var chatSent: Int
    public var chatReceived: Int
    public var bandwidthPerClientUpBytesPerSecond: Double
    public var bandwidthPerClientDownBytesPerSecond: Double
    public var serverCpuSeconds: Double
    public var serverPeakMemoryBytes: UInt64
    public var leaderboardQueries: Int
    /// [seconds from the run's start, tick p99 ms] once a second: the p99 of that second's own
    /// passes (no point for a second without one); from a server without histograms, its
    /// running p99 since it started (see ``serverTickScope``).
    public var tickOverTime: [[Double]]
    /// [seconds from the run's start, server bytes in per second, bytes out per second].
    public var bandwidthOverTime: [[Double]]
    public var rttSamplesMs: [Double]
    /// "game" (the whole stack) or "transport" (the same traffic through `arbiter echo`).
    public var mode = "game"
    public var light = false
    /// p99 of each phase of the server tick pass, over the run's window (see ``serverTickScope``).
    public var serverTickPhasesP99Ms: [String: Double] = [:]
    /// What ``serverTickMs``, ``serverTickOverruns`` and ``serverTickPhasesP99Ms`` cover:
    /// `window`, the run's window (from the first reading at or after the end of the ramp to the
    /// last one at or before the end of play, ``serverTickWindowSeconds``), as the difference of
    /// the server's histograms at those readings; `since_server_start`, the server's running
    /// figures since it started, from a server that publishes no histograms (older); `none`, no
    /// reading of the server's ticks.
    public var serverTickScope = ServerTickFigures.Scope.none.rawValue
    /// [from, to]: the window's two readings, in seconds from the run's start (empty unless the
    /// scope is `window`).
    public var serverTickWindowSeconds: [Double] = []
    /// Server CPU over the steady part of the run (after the ramp), per connected player per second.
    public var serverCpuMicrosPerPlayerSecond = 0.0
    /// The server's game threads alone (thread CPU time, not the process's) per player-tick,
    /// over the same part of the run; nil when the server's threads could not be read.
    public var serverGameThreadMicrosPerPlayerTick: Double?
    /// Resident memory before the first bot connected, and the growth per connected player.
    public var serverBaselineMemoryBytes: UInt64 = 0
    public var serverMemoryPerPlayerBytes = 0.0
    /// Transport mode: payloads sent by the bots and echoes they received.
    public var payloadsSent = 0
    public var payloadsEchoed = 0
    /// The ramp before the `durationSeconds` of play: the run lasts both.
    public var rampSeconds = 0.0
    /// The swarm's own CPU (its process, user and system) over the steady part of play, per
    /// playing bot per tick, in microseconds; and the kernel's share of it (0...1).
    public var swarmCpuMicrosPerBotTick = 0.0
    public var swarmKernelShare = 0.0
    /// Ticks each playing bot did per second over that part (60 unless the swarm was starved).
    public var swarmTicksPerBotSecond = 0.0
    /// How the bots' datagrams went: "io_uring", or the fallback and why.
    public var swarmIo = ""

    public var table: String {
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
        func column(_ text: String) -> String { String(repeating: " ", count: max(0, 10 - text.count)) + text }
        func row(_ name: String, _ d: Distribution, _ unit: String) -> String {
            pad(name, 28) + [d.p50, d.p90, d.p99, d.p999, d.max].map { column(String(format: "%.2f", $0)) }.joined() + "  " + unit
        }
        var lines = [
            pad("", 28) + ["p50", "p90", "p99", "p99.9", "max"].map(column).joined(),
            row(serverTickScope == ServerTickFigures.Scope.window.rawValue ? "server tick (window)" : "server tick", serverTickMs, "ms"),
            row("client RTT", clientRttMs, "ms"),
            row("snapshot inter-arrival", snapshotInterArrivalMs, "ms"),
            row("input to acknowledgement", inputAckLatencyMs, "ms"),
            row("prediction correction", predictionCorrectionUnits, "units"),
            row("interpolation delay", interpolationDelayMs, "ms"),
        ]
        if let scope = serverTickScopeText { lines.append(scope) }
        lines.append("bots connected \(connected)/\(bots), failed joins \(failedJoins), disconnects \(disconnectsText), tick overruns \(serverTickOverruns)")
        lines.append("reliable messages sent \(reliableSent) delivered \(reliableDelivered); chat sent \(chatSent), deliveries to channel members \(chatReceived); leaderboard queries \(leaderboardQueries)")
        lines.append(String(format: "bandwidth per client: up %.0f B/s, down %.0f B/s; server CPU %.1f s, peak memory %.1f MB",
                            bandwidthPerClientUpBytesPerSecond, bandwidthPerClientDownBytesPerSecond, serverCpuSeconds, Double(serverPeakMemoryBytes) / 1_048_576))
        lines.append(String(format: "server CPU per player: %.1f us per second (%.2f us per player-tick at 60 Hz); memory per player: %.1f KiB over a %.1f MB baseline",
                            serverCpuMicrosPerPlayerSecond, serverCpuMicrosPerPlayerSecond / 60, serverMemoryPerPlayerBytes / 1024,
                            Double(serverBaselineMemoryBytes) / 1_048_576))
        if let gameThread = serverGameThreadMicrosPerPlayerTick {
            lines.append(String(format: "server game threads: %.2f us per player-tick (their own CPU time)", gameThread))
        }
        if !serverTickPhasesP99Ms.isEmpty {
            lines.append("server tick phases p99: " + serverTickPhasesP99Ms.sorted { $0.key < $1.key }.map { "\($0.key) " + String(format: "%.2f ms", $0.value) }.joined(separator: ", "))
        }
        if mode == "transport" { lines.append("transport only: payloads sent \(payloadsSent), echoed \(payloadsEchoed)") }
        if light { lines.append("light bots: no interpolated frames or local prediction (scripted aim)") }
        if swarmCpuMicrosPerBotTick > 0 {
            lines.append(String(format: "swarm CPU per bot-tick: %.2f µs (%.0f %% in the kernel), %.1f ticks per bot per second; datagrams: ",
                                swarmCpuMicrosPerBotTick, swarmKernelShare * 100, swarmTicksPerBotSecond) + swarmIo)
        }
        return lines.joined(separator: "\n")
    }
}

extension SwarmReport {
    /// CPU per player over the steady part of the run (from a second after the ramp to the end)
    /// and memory growth per connected player over the baseline; and what the tick figures
    /// cover (the run's window, or the server's running figures), which the caller took from
    /// the same sampler.
    mutating func fillServerCosts(sampler: StatsSampler, ramp: Double, duration: Double, connected: Int) {
        let stats = sampler.collected
        let ticks = stats.tickFigures
        serverTickScope = ticks.scope.rawValue
        serverTickWindowSeconds = ticks.window.map { [$0.lowerBound, $0.upperBound] } ?? []
        serverCpuMicrosPerPlayerSecond = sampler.cpuMicrosPerPlayerSecond(from: ramp + 1, to: ramp + duration)
        serverGameThreadMicrosPerPlayerTick = sampler.gameThreadMicrosPerPlayerTick(from: ramp + 1, to: ramp + duration)
        serverBaselineMemoryBytes = stats.baselineMemory
        if connected > 0, stats.baselineMemory > 0, stats.peakMemory > stats.baselineMemory {
            serverMemoryPerPlayerBytes = Double(stats.peakMemory - stats.baselineMemory) / Double(connected)
        }
    }

    /// Reliable messages sent and never delivered.
    public var reliableLost: Int { reliableSent - reliableDelivered }
}
