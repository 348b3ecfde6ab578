/// What a game server reports about itself: tick durations and their phases, matches,
/// clients, traffic, drops, client round trips and loss, and its process's CPU and memory. The
/// game server publishes it; the control port serves it at `GET /v1/server/stats`; the bot
/// swarm reads it from there.
///
/// The percentiles are the server's running figures since it started. To describe a stretch of
/// time, a reader takes the difference of two readings' ``Tick/histogram`` (and each phase's
/// ``Phase/histogram``), ``Tick/count`` and ``Tick/overruns``: every one of them only grows.
public struct ServerStatsReport: Codable, Sendable, Equatable {
    /// One phase of the tick pass, in milliseconds.
    public struct Phase: Codable, Sendable, Equatable {
        public var p50Ms: Double
        public var p99Ms: Double
        public var maxMs: Double
        /// Every pass's duration of this phase since the server started. Nil when decoded from a
        /// server that does not publish it (older than the histograms).
        public var histogram: DurationHistogram?

        public init(p50Ms: Double, p99Ms: Double, maxMs: Double, histogram: DurationHistogram? = nil) {
            self.p50Ms = p50Ms
            self.p99Ms = p99Ms
            self.maxMs = maxMs
            self.histogram = histogram
        }
    }

    /// The tick's phases: receiving since the previous pass, simulating, snapshots and sending.
    public struct Phases: Codable, Sendable, Equatable {
        public var receive: Phase
        public var simulate: Phase
        public var snapshotSend: Phase

        public init(receive: Phase, simulate: Phase, snapshotSend: Phase) {
            self.receive = receive
            self.simulate = simulate
            self.snapshotSend = snapshotSend
        }
    }

    /// The tick passes since the server started. A pass runs every match that is due once;
    /// `count` counts match ticks, so it is at least the histogram's count.
    public struct Tick: Codable, Sendable, Equatable {
        public var count: UInt64
        public var p50Ms: Double
        public var p90Ms: Double
        public var p99Ms: Double
        public var p999Ms: Double
        public var maxMs: Double
        public var overruns: UInt64
        public var phases: Phases
        /// Every pass's duration since the server started. Nil when decoded from a server that
        /// does not publish it (older than the histograms).
        public var histogram: DurationHistogram?

        public init(
            count: UInt64, p50Ms: Double, p90Ms: Double, p99Ms: Double, p999Ms: Double, maxMs: Double, overruns: UInt64, phases: Phases,
            histogram: DurationHistogram? = nil
        ) {
            self.phases = phases
            self.histogram = histogram
            self.count = count
            self.p50Ms = p50Ms
            self.p90Ms = p90Ms
            self.p99Ms = p99Ms
            self.p999Ms = p999Ms
            self.maxMs = maxMs
            self.overruns = overruns
        }
    }

    public var tick: Tick
    public var matches: Int
    public var connectedClients: Int
    public var datagramsIn: UInt64
    public var datagramsOut: UInt64
    public var bytesIn: UInt64
    public var bytesOut: UInt64
    public var drops: [String: UInt64]
    public var rttP50Ms: Double
    public var rttP99Ms: Double
    public var meanPacketLoss: Double
    /// The process's CPU time and resident memory (the game server's driver fills them in).
    public var cpuSeconds: Double
    public var residentMemoryBytes: UInt64
    /// CPU time of the game worker threads alone (their sum), and the player-ticks they served
    /// (each match tick counts its connected players): together, the game's own cost per
    /// player-tick, without the control port. Nil from a server that does not publish them.
    public var gameThreadCpuSeconds: Double?
    public var playerTicks: UInt64?
    /// Each game worker's own figures (``GameWorkerPool``); the fields above are their sum.
    public var workers: [Worker]?
    /// The WebSocket players (`GET /v1/play`), when the game server takes them.
    public var websocket: WebSocket?

    /// One game worker: a thread with its own UDP port and matches.
    public struct Worker: Codable, Sendable, Equatable {
        public var index: Int
        public var port: Int
        public var tick: Tick
        public var matches: Int
        public var connectedClients: Int
        public var datagramsIn: UInt64
        public var datagramsOut: UInt64
        public var threadCpuSeconds: Double
        public var playerTicks: UInt64

        public init(
            index: Int, port: Int, tick: Tick, matches: Int, connectedClients: Int, datagramsIn: UInt64, datagramsOut: UInt64,
            threadCpuSeconds: Double, playerTicks: UInt64
        ) {
            self.index = index
            self.port = port
            self.tick = tick
            self.matches = matches
            self.connectedClients = connectedClients
            self.datagramsIn = datagramsIn
            self.datagramsOut = datagramsOut
            self.threadCpuSeconds = threadCpuSeconds
            self.playerTicks = playerTicks
        }
    }

    public init(tick: Tick, matches: Int, connectedClients: Int, datagramsIn: UInt64, datagramsOut: UInt64, bytesIn: UInt64, bytesOut: UInt64,
                drops: [String: UInt64], rttP50Ms: Double, rttP99Ms: Double, meanPacketLoss: Double, cpuSeconds: Double = 0, residentMemoryBytes: UInt64 = 0) {
        self.tick = tick
        self.matches = matches
        self.connectedClients = connectedClients
        self.datagramsIn = datagramsIn
        self.datagramsOut = datagramsOut
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.drops = drops
        self.rttP50Ms = rttP50Ms
        self.rttP99Ms = rttP99Ms
        self.meanPacketLoss = meanPacketLoss
        self.cpuSeconds = cpuSeconds
        self.residentMemoryBytes = residentMemoryBytes
    }
}

extension ServerStatsReport {
    /// Nothing measured yet.
    public static let empty = ServerStatsReport(
        tick: .init(
            count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, overruns: 0, phases: .init(receive: .zero, simulate: .zero, snapshotSend: .zero),
            histogram: DurationHistogram()),
        matches: 0, connectedClients: 0, datagramsIn: 0, datagramsOut: 0, bytesIn: 0, bytesOut: 0, drops: [:], rttP50Ms: 0, rttP99Ms: 0,
        meanPacketLoss: 0)
}

extension ServerStatsReport.Phase {
    public static let zero = ServerStatsReport.Phase(p50Ms: 0, p99Ms: 0, maxMs: 0, histogram: DurationHistogram())
}
