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

    /// Every worker's latest report, and their sum (see ``ServerStatsReport/merging(_:)``).
    public var stats: (merged: ServerStatsReport, perWorker: [ServerStatsReport]) {
        let each = workers.map(\.statsBoard.current)
        return (ServerStatsReport.merging(each), each)
    }
}

extension ServerStatsReport {
    /// The game server as a whole from its workers' reports: counts and traffic are summed,
    /// drops summed by reason; durations and round trips are the worst worker's (a percentile
    /// of the whole cannot be had from the parts' percentiles), loss the players' mean.
    public static func merging(_ reports: [ServerStatsReport]) -> ServerStatsReport {
        guard var merged = reports.first else { return .empty }
        guard reports.count > 1 else { return merged }
        func worst(_ phases: [Phase]) -> Phase {
            Phase(p50Ms: phases.map(\.p50Ms).max() ?? 0, p99Ms: phases.map(\.p99Ms).max() ?? 0, maxMs: phases.map(\.maxMs).max() ?? 0)
        }
        let ticks = reports.map(\.tick)
        merged.tick = Tick(
            count: ticks.reduce(0) { $0 &+ $1.count }, p50Ms: ticks.map(\.p50Ms).max() ?? 0, p90Ms: ticks.map(\.p90Ms).max() ?? 0,
            p99Ms: ticks.map(\.p99Ms).max() ?? 0, p999Ms: ticks.map(\.p999Ms).max() ?? 0, maxMs: ticks.map(\.maxMs).max() ?? 0,
            overruns: ticks.reduce(0) { $0 &+ $1.overruns },
            phases: Phases(
                receive: worst(ticks.map(\.phases.receive)), simulate: worst(ticks.map(\.phases.simulate)),
                snapshotSend: worst(ticks.map(\.phases.snapshotSend))))
        merged.matches = reports.reduce(0) { $0 + $1.matches }
        merged.connectedClients = reports.reduce(0) { $0 + $1.connectedClients }
        merged.datagramsIn = reports.reduce(0) { $0 &+ $1.datagramsIn }
        merged.datagramsOut = reports.reduce(0) { $0 &+ $1.datagramsOut }
        merged.bytesIn = reports.reduce(0) { $0 &+ $1.bytesIn }
        merged.bytesOut = reports.reduce(0) { $0 &+ $1.bytesOut }
        merged.drops = reports.reduce(into: [:]) { sum, report in sum.merge(report.drops, uniquingKeysWith: &+) }
        merged.rttP50Ms = reports.map(\.rttP50Ms).max() ?? 0
        merged.rttP99Ms = reports.map(\.rttP99Ms).max() ?? 0
        let players = reports.reduce(0) { $0 + $1.connectedClients }
        merged.meanPacketLoss = players == 0 ? 0 : reports.reduce(0) { $0 + $1.meanPacketLoss * Double($1.connectedClients) } / Double(players)
        return merged
    }
}
