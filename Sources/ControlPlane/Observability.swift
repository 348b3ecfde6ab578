import Foundation
import Hummingbird
import Metrics

/// What the control port reports about the whole server, supplied by the executable (the control
/// port knows nothing of the game server's internals).
public struct Observability: Sendable {
    /// The Prometheus text exposition of every metric (empty when no backend is set up).
    public var metricsText: @Sendable () -> String
    /// The game server's essentials for `GET /v1/server/stats`, if there is one in process.
    public var serverStats: @Sendable () -> ServerStatsReport?
    /// When set, `GET /metrics` answers only requests with `Authorization: Bearer` this token.
    public var metricsToken: String?

    public init(
        metricsText: @escaping @Sendable () -> String = { "" }, serverStats: @escaping @Sendable () -> ServerStatsReport? = { nil },
        metricsToken: String? = nil
    ) {
        self.metricsText = metricsText
        self.serverStats = serverStats
        self.metricsToken = metricsToken
    }
}

/// `GET /v1/server/stats`.
public struct ServerStatsReport: Codable, Sendable, ResponseEncodable {
    /// One phase of the tick pass, in milliseconds.
    public struct Phase: Codable, Sendable {
        public var p50Ms: Double
        public var p99Ms: Double
        public var maxMs: Double

        public init(p50Ms: Double, p99Ms: Double, maxMs: Double) {
            self.p50Ms = p50Ms
            self.p99Ms = p99Ms
            self.maxMs = maxMs
        }
    }

    /// The tick's phases: receiving since the previous pass, simulating, snapshots and sending.
    public struct Phases: Codable, Sendable {
        public var receive: Phase
        public var simulate: Phase
        public var snapshotSend: Phase

        public init(receive: Phase, simulate: Phase, snapshotSend: Phase) {
            self.receive = receive
            self.simulate = simulate
            self.snapshotSend = snapshotSend
        }
    }

    public struct Tick: Codable, Sendable {
        public var count: UInt64
        public var p50Ms: Double
        public var p90Ms: Double
        public var p99Ms: Double
        public var p999Ms: Double
        public var maxMs: Double
        public var overruns: UInt64
        public var phases: Phases

        public init(
            count: UInt64, p50Ms: Double, p90Ms: Double, p99Ms: Double, p999Ms: Double, maxMs: Double, overruns: UInt64, phases: Phases
        ) {
            self.phases = phases
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
    public var cpuSeconds: Double
    public var residentMemoryBytes: UInt64

    public init(tick: Tick, matches: Int, connectedClients: Int, datagramsIn: UInt64, datagramsOut: UInt64, bytesIn: UInt64, bytesOut: UInt64,
                drops: [String: UInt64], rttP50Ms: Double, rttP99Ms: Double, meanPacketLoss: Double, cpuSeconds: Double, residentMemoryBytes: UInt64) {
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

/// Counters the control port keeps (created once; bounded labels).
enum ControlPlaneMetrics {
    static let loginSuccesses = Counter(label: "arbiter_logins_total", dimensions: [("result", "success")])
    static let loginFailures = Counter(label: "arbiter_logins_total", dimensions: [("result", "failure")])
    static let registrations = Counter(label: "arbiter_registrations_total")
    static let chatMessages = Counter(label: "arbiter_chat_messages_total")
}
