import Foundation
import GameCore
import MatchContract
import Metrics
import NetProtocol
import Synchronization

/// A mailbox between the UDP thread (writes every half second) and readers on other threads.
public final class GameServerStatsBoard: Sendable {
    private let value = Mutex(ServerStatsReport.empty)
    public init() {}
    public var current: ServerStatsReport { value.withLock { $0 } }
    func publish(_ stats: ServerStatsReport) { value.withLock { $0 = stats } }
}

/// swift-metrics objects for the game server, created once, with bounded labels (no per-player
/// dimensions). Whatever backend the executable bootstraps receives them. Counters and timers
/// are the whole server's (every worker adds to them); gauges are set by each worker for
/// itself, so they carry its index (`worker="0"`).
final class GameServerMetrics {
    let tickDuration = Metrics.Timer(label: "arbiter_tick_duration_seconds")
    let receiveDuration = Metrics.Timer(label: "arbiter_tick_phase_duration_seconds", dimensions: [("phase", "receive")])
    let simulateDuration = Metrics.Timer(label: "arbiter_tick_phase_duration_seconds", dimensions: [("phase", "simulate")])
    let snapshotSendDuration = Metrics.Timer(label: "arbiter_tick_phase_duration_seconds", dimensions: [("phase", "snapshot_send")])
    let overruns = Counter(label: "arbiter_tick_overruns_total")
    let clients: Gauge
    let matches: Gauge
    let datagramsIn = Counter(label: "arbiter_datagrams_total", dimensions: [("direction", "in")])
    let datagramsOut = Counter(label: "arbiter_datagrams_total", dimensions: [("direction", "out")])
    let bytesIn = Counter(label: "arbiter_bytes_total", dimensions: [("direction", "in")])
    let bytesOut = Counter(label: "arbiter_bytes_total", dimensions: [("direction", "out")])
    let drops: [DropReason: Counter] = Dictionary(uniqueKeysWithValues: DropReason.allCases.map {
        ($0, Counter(label: "arbiter_datagram_drops_total", dimensions: [("reason", $0.description)]))
    })
    let rttP50: Gauge
    let rttP99: Gauge
    let loss: Gauge
    let rateLimitedPackets = Counter(label: "arbiter_rate_limited_packets_total")
    let channelFaults: [String: Counter] = Dictionary(uniqueKeysWithValues: ChannelFault.kinds.map {
        ($0, Counter(label: "arbiter_channel_faults_total", dimensions: [("fault", $0)]))
    })
    /// What all connections hold now, the most they have held together, and the most any one
    /// connection has held (the per-connection budget bounds it).
    let heldBytes: Gauge
    let heldPeakBytes: Gauge
    let connectionPeakBytes: Gauge
    /// Players leaving a match, by why (``LeaveReason/kind``: a fixed set).
    let departures: [String: Counter] = Dictionary(uniqueKeysWithValues: LeaveReason.kinds.map {
        ($0, Counter(label: "arbiter_match_departures_total", dimensions: [("reason", $0)]))
    })
    private var reported = TransportCounters()

    init(worker index: Int = 0) {
        let worker = String(index)
        clients = Gauge(label: "arbiter_connected_clients", dimensions: [("worker", worker)])
        matches = Gauge(label: "arbiter_matches", dimensions: [("worker", worker)])
        rttP50 = Gauge(label: "arbiter_client_rtt_seconds", dimensions: [("quantile", "0.5"), ("worker", worker)])
        rttP99 = Gauge(label: "arbiter_client_rtt_seconds", dimensions: [("quantile", "0.99"), ("worker", worker)])
        loss = Gauge(label: "arbiter_client_packet_loss", dimensions: [("worker", worker)])
        heldBytes = Gauge(label: "arbiter_connection_memory_bytes", dimensions: [("worker", worker)])
        heldPeakBytes = Gauge(label: "arbiter_connection_memory_peak_bytes", dimensions: [("worker", worker)])
        connectionPeakBytes = Gauge(label: "arbiter_connection_peak_bytes", dimensions: [("worker", worker)])
    }

    /// Folds the endpoint's counters (since the last call) into the counters.
    func update(from counters: TransportCounters) {
        datagramsIn.increment(by: Int64(counters.datagramsReceived &- reported.datagramsReceived))
        datagramsOut.increment(by: Int64(counters.datagramsSent &- reported.datagramsSent))
        bytesIn.increment(by: Int64(counters.bytesReceived &- reported.bytesReceived))
        bytesOut.increment(by: Int64(counters.bytesSent &- reported.bytesSent))
        for reason in DropReason.allCases {
            let delta = counters[drop: reason] &- reported[drop: reason]
            if delta > 0 { drops[reason]?.increment(by: Int64(delta)) }
        }
        reported = counters
    }
}
