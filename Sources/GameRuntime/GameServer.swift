import Foundation
import GameCore
import Histograms
import Logging
import MatchContract
import NetProtocol

/// The game server's transport handler: glue between the UDP transport and the sans-IO
/// ``MatchServer``. It hands the server transport events and the time, passes its packets and
/// disconnects to the transport, and turns its events and counters into logs, metrics and the
/// stats board. Runs on the transport's thread.
public final class GameServerHandler<Rules: GameRules>: TransportServerHandler {
    public let server: MatchServer<Rules>
    public let directory: MatchDirectory
    let logger: Logger
    private let clock: SystemClock
    public private(set) var tickDurations = TickHistogram()
    /// The pass split into its phases: receiving since the previous pass (socket, decryption,
    /// channels, input decoding), simulating, and building and sending snapshots.
    public private(set) var receiveDurations = TickHistogram()
    public private(set) var simulateDurations = TickHistogram()
    public private(set) var snapshotSendDurations = TickHistogram()
    /// The essentials for the stats route, refreshed every half second.
    public let statsBoard: GameServerStatsBoard
    private let metrics: GameServerMetrics
    private var lastStats = 0.0
    private var reportedRateLimited: UInt64 = 0
    private var reportedOverruns: UInt64 = 0

    /// Puts the server's output onto the transport.
    struct TransportOutput: MatchServerOutput {
        var context: TransportServer.Context

        mutating func send(_ packet: UnsafeRawBufferPointer, to client: Int) { context.send(packet, to: client) }
        mutating func disconnect(_ client: Int) { context.disconnect(client) }
    }

    /// - Parameter worker: this handler's game worker (``GameWorkerPool``), which labels its gauges.
    public init(
        rules: Rules, directory: MatchDirectory, logger: Logger, statsBoard: GameServerStatsBoard = GameServerStatsBoard(),
        configuration: MatchServer<Rules>.Configuration = .init(), clock: SystemClock = SystemClock(), worker: Int = 0
    ) {
        metrics = GameServerMetrics(worker: worker)
        self.directory = directory
        self.logger = logger
        self.statsBoard = statsBoard
        self.clock = clock
        server = MatchServer(rules: rules, registry: directory, configuration: configuration) { clock.uptimeNanoseconds() }
    }

    public var limits: GameServerLimits { server.configuration.limits }
    public var memoryPool: ChannelMemoryPool { server.memoryPool }
    public var matchCount: Int { server.matchCount }
    public var playerCount: Int { server.playerCount }
    public var ticks: UInt64 { server.ticks }
    public var overruns: UInt64 { server.overruns }
    public var rateLimitedPackets: UInt64 { server.rateLimitedPackets }
    public var peakConnectionBytes: Int { server.peakConnectionBytes }
    public var faults: [String: UInt64] { server.faults }
    /// The match server decides when the loop wakes next (its ticks and sweeps).
    public var nextDeadline: Double? { server.nextDeadline }

    public func clientConnected(_ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress) {
        let ticket = context.endpoint.userData(of: clientIndex).flatMap { MatchTicket(userData: $0) }
        var output = TransportOutput(context: context)
        server.clientConnected(clientIndex, clientID: clientID, ticket: ticket, now: context.now.seconds, output: &output)
        reportEvents()
    }

    public func payloadReceived(_ context: inout TransportServer.Context, clientIndex: Int, bytes: UnsafeRawBufferPointer) {
        var output = TransportOutput(context: context)
        server.payloadReceived(clientIndex, bytes: bytes, now: context.now.seconds, output: &output)
        if !server.events.isEmpty { reportEvents() }
    }

    public func clientDisconnected(
        _ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress, reason: DisconnectReason
    ) {
        server.clientDisconnected(clientIndex, reason: reason, now: context.now.seconds)
        reportEvents()
    }

    public func tick(_ context: inout TransportServer.Context) {
        let now = context.now.seconds
        // One server tick = one pass over every match that is due; its duration (simulate, build
        // and send snapshots for all of them) is what the histogram records.
        let passStart = clock.uptimeNanoseconds()
        var output = TransportOutput(context: context)
        let pass = server.tick(now: now, wallClock: clock.date(), output: &output)
        if pass.ticks > 0 {
            // The send syscalls belong to the pass: flush before the clock stops.
            let flushStart = clock.uptimeNanoseconds()
            context.flush()
            let passEnd = clock.uptimeNanoseconds()
            let snapshotSend = pass.snapshotNanoseconds &+ (passEnd &- flushStart)
            let elapsed = passEnd &- passStart
            let received = context.receiveNanosecondsSinceLastTick
            tickDurations.record(seconds: Double(elapsed) / 1_000_000_000)
            receiveDurations.record(seconds: Double(received) / 1_000_000_000)
            simulateDurations.record(seconds: Double(pass.simulateNanoseconds) / 1_000_000_000)
            snapshotSendDurations.record(seconds: Double(snapshotSend) / 1_000_000_000)
            metrics.tickDuration.recordNanoseconds(Int64(elapsed))
            metrics.receiveDuration.recordNanoseconds(Int64(received))
            metrics.simulateDuration.recordNanoseconds(Int64(pass.simulateNanoseconds))
            metrics.snapshotSendDuration.recordNanoseconds(Int64(snapshotSend))
        }
        if !server.events.isEmpty { reportEvents() }
        if now - lastStats >= 0.5 {
            lastStats = now
            publishStats(context.endpoint.counters)
        }
    }

    /// The server is stopping (after every client was disconnected): every match still running
    /// is reported abandoned, with the time played so far.
    public func serverStopped(now: Double) {
        server.stop(now: now, wallClock: clock.date())
        reportEvents()
    }

    /// Logs and counts what the match server reported, each departure once with its reason.
    private func reportEvents() {
        for event in server.takeEvents() {
            switch event {
            case .joined(let matchID, let player):
                logger.info("player joined", metadata: ["match_id": "\(matchID)", "player_id": "\(player)"])
            case .turnedAway(let clientID, let matchID, let admission):
                logger.info("turned a client away", metadata: ["client_id": "\(clientID)", "match_id": "\(matchID)", "admission": "\(admission)"])
            case .spectating(let matchID, let player):
                logger.info("player spectates", metadata: ["match_id": "\(matchID)", "player_id": "\(player)"])
            case .left(let matchID, let player, let reason):
                if case .fault(let fault) = reason {
                    logger.info(
                        "channel protocol violation", metadata: ["reason": "\(fault)", "match_id": "\(matchID)", "player_id": "\(player)"])
                    metrics.channelFaults[fault.kind]?.increment()
                }
                metrics.departures[reason.kind]?.increment()
                logger.info("player left", metadata: ["match_id": "\(matchID)", "player_id": "\(player)", "reason": "\(reason.kind)"])
            case .matchEnded(let matchID):
                logger.info("match ended", metadata: ["match_id": "\(matchID)"])
            }
        }
    }

    private func publishStats(_ counters: TransportCounters) {
        metrics.update(from: counters)
        let rateLimited = server.rateLimitedPackets
        metrics.rateLimitedPackets.increment(by: Int64(rateLimited &- reportedRateLimited))
        reportedRateLimited = rateLimited
        metrics.clients.record(server.playerCount)
        metrics.heldBytes.record(server.memoryPool.usedBytes)
        metrics.heldPeakBytes.record(server.memoryPool.peakBytes)
        metrics.connectionPeakBytes.record(server.peakConnectionBytes)
        metrics.matches.record(server.matchCount)
        metrics.overruns.increment(by: Int64(server.overruns &- reportedOverruns))
        reportedOverruns = server.overruns
        var rtts = SampleHistogram.durations()
        var lossSum = 0.0
        var connections = 0
        server.forEachConnection { connection in
            rtts.record(connection.statistics.rtt)
            lossSum += connection.statistics.packetLoss
            connections += 1
        }
        let rttP50 = rtts.percentile(0.5)
        let rttP99 = rtts.percentile(0.99)
        let loss = connections == 0 ? 0 : lossSum / Double(connections)
        metrics.rttP50.record(rttP50)
        metrics.rttP99.record(rttP99)
        metrics.loss.record(loss)
        func phase(_ histogram: TickHistogram) -> ServerStatsReport.Phase {
            .init(
                p50Ms: histogram.percentile(0.5) * 1000, p99Ms: histogram.percentile(0.99) * 1000, maxMs: histogram.maxSeconds * 1000,
                histogram: histogram.published)
        }
        let stats = ServerStatsReport(
            tick: .init(
                count: server.ticks, p50Ms: tickDurations.percentile(0.5) * 1000, p90Ms: tickDurations.percentile(0.9) * 1000,
                p99Ms: tickDurations.percentile(0.99) * 1000, p999Ms: tickDurations.percentile(0.999) * 1000, maxMs: tickDurations.maxSeconds * 1000,
                overruns: server.overruns,
                phases: .init(receive: phase(receiveDurations), simulate: phase(simulateDurations), snapshotSend: phase(snapshotSendDurations)),
                histogram: tickDurations.published),
            matches: server.matchCount, connectedClients: server.playerCount, datagramsIn: counters.datagramsReceived,
            datagramsOut: counters.datagramsSent, bytesIn: counters.bytesReceived, bytesOut: counters.bytesSent,
            drops: Dictionary(uniqueKeysWithValues: counters.dropSummary.map { ($0.0.description, $0.1) }), rttP50Ms: rttP50 * 1000,
            rttP99Ms: rttP99 * 1000, meanPacketLoss: loss)
        var published = stats
        // Read on this thread, so it is this worker's own CPU time.
        published.gameThreadCpuSeconds = SystemClock().threadCPUSeconds()
        published.playerTicks = server.playerTicks
        statsBoard.publish(published)
    }
}
