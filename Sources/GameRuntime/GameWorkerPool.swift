import MatchContract
import NetProtocol

/// The game server's workers, as the control port sees them. Each worker is a thread with its
/// own UDP socket, its own ``MatchServer`` and its own ``MatchDirectory``: workers share no
/// lock and no memory on the datagram and tick path, so N of them use N cores and one's stall
/// never delays another's ticks. A client reaches its match's worker because its connect token
/// names that worker's address (a token names only it, so another worker refuses it).
public final class GameWorkerPool: Sendable {
    public struct Worker: Sendable {
        public let index: Int
        /// The address clients dial for this worker's matches: it goes into their tokens.
        public let address: NetAddress
        public let directory: MatchDirectory
        public let statsBoard: GameServerStatsBoard

        public init(index: Int, address: NetAddress, directory: MatchDirectory, statsBoard: GameServerStatsBoard) {
            self.index = index
            self.address = address
            self.directory = directory
            self.statsBoard = statsBoard
        }
    }

    public let workers: [Worker]

    public init(workers: [Worker]) {
        precondition(!workers.isEmpty, "a game server has at least one worker")
        self.workers = workers
    }

    /// Registers a new match on the least-loaded worker (fewest seats in running matches; the
    /// lower index on a tie) and says which.
    public func createMatch(settings: MatchSettings, now: Double) -> (matchID: UInt64, worker: Worker) {
        var chosen = workers[0]
        var fewest = chosen.directory.plannedSeats
        for worker in workers.dropFirst() {
            let seats = worker.directory.plannedSeats
            if seats < fewest { (chosen, fewest) = (worker, seats) }
        }
        return (chosen.directory.create(settings: settings, now: now), chosen)
    }

    /// The worker that runs `matchID`, if any does.
    public func worker(running matchID: UInt64) -> Worker? {
        workers.first { $0.directory.contains(matchID) }
    }

    /// The whole server's report (``ServerStatsReport/merging(_:)``), with each worker's own
    /// figures in ``ServerStatsReport/workers``.
    public var stats: ServerStatsReport {
        let each = workers.map(\.statsBoard.current)
        var merged = ServerStatsReport.merging(each)
        merged.workers = zip(workers, each).map { worker, report in
            .init(
                index: worker.index, port: Int(worker.address.port), tick: report.tick, matches: report.matches,
                connectedClients: report.connectedClients, datagramsIn: report.datagramsIn, datagramsOut: report.datagramsOut,
                threadCpuSeconds: report.gameThreadCpuSeconds ?? 0, playerTicks: report.playerTicks ?? 0)
        }
        return merged
    }
}

extension ServerStatsReport {
    /// The game server as a whole from its workers' reports: counts, traffic and drops are
    /// summed, tick and phase histograms added (so the percentiles are the whole server's);
    /// maxima and round trips are the worst worker's, loss the players' mean.
    public static func merging(_ reports: [ServerStatsReport]) -> ServerStatsReport {
        guard var merged = reports.first else { return .empty }
        guard reports.count > 1 else { return merged }
        func sum(_ histograms: [DurationHistogram?]) -> DurationHistogram? {
            histograms.reduce(DurationHistogram?.some(DurationHistogram())) { total, next in
                guard let total, let next else { return nil }
                return total + next
            }
        }
        func percentile(_ histogram: DurationHistogram?, _ fraction: Double, else fallback: Double) -> Double {
            histogram.map { $0.percentileSeconds(fraction) * 1000 } ?? fallback
        }
        func merge(_ phases: [Phase]) -> Phase {
            let histogram = sum(phases.map(\.histogram))
            return Phase(
                p50Ms: percentile(histogram, 0.5, else: phases.map(\.p50Ms).max() ?? 0),
                p99Ms: percentile(histogram, 0.99, else: phases.map(\.p99Ms).max() ?? 0),
                maxMs: phases.map(\.maxMs).max() ?? 0, histogram: histogram)
        }
        let ticks = reports.map(\.tick)
        let histogram = sum(ticks.map(\.histogram))
        merged.tick = Tick(
            count: ticks.reduce(0) { $0 &+ $1.count },
            p50Ms: percentile(histogram, 0.5, else: ticks.map(\.p50Ms).max() ?? 0),
            p90Ms: percentile(histogram, 0.9, else: ticks.map(\.p90Ms).max() ?? 0),
            p99Ms: percentile(histogram, 0.99, else: ticks.map(\.p99Ms).max() ?? 0),
            p999Ms: percentile(histogram, 0.999, else: ticks.map(\.p999Ms).max() ?? 0),
            maxMs: ticks.map(\.maxMs).max() ?? 0,
            overruns: ticks.reduce(0) { $0 &+ $1.overruns },
            phases: Phases(
                receive: merge(ticks.map(\.phases.receive)), simulate: merge(ticks.map(\.phases.simulate)),
                snapshotSend: merge(ticks.map(\.phases.snapshotSend))),
            histogram: histogram)
        merged.matches = reports.reduce(0) { $0 + $1.matches }
        merged.connectedClients = reports.reduce(0) { $0 + $1.connectedClients }
        merged.datagramsIn = reports.reduce(0) { $0 &+ $1.datagramsIn }
        merged.datagramsOut = reports.reduce(0) { $0 &+ $1.datagramsOut }
        merged.bytesIn = reports.reduce(0) { $0 &+ $1.bytesIn }
        merged.bytesOut = reports.reduce(0) { $0 &+ $1.bytesOut }
        merged.drops = reports.reduce(into: [:]) { sum, report in sum.merge(report.drops, uniquingKeysWith: &+) }
        merged.rttP50Ms = reports.map(\.rttP50Ms).max() ?? 0
        merged.rttP99Ms = reports.map(\.rttP99Ms).max() ?? 0
        merged.gameThreadCpuSeconds = reports.reduce(0) { $0 + ($1.gameThreadCpuSeconds ?? 0) }
        merged.playerTicks = reports.reduce(0) { $0 &+ ($1.playerTicks ?? 0) }
        let players = reports.reduce(0) { $0 + $1.connectedClients }
        merged.meanPacketLoss = players == 0 ? 0 : reports.reduce(0) { $0 + $1.meanPacketLoss * Double($1.connectedClients) } / Double(players)
        return merged
    }
}
