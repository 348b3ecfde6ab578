import ControlPlane
import Foundation
import GameRuntime

#if canImport(Glibc)
import Glibc
#endif

/// Turns the game server's published stats into the control port's report, adding the
/// process's CPU time and resident memory.
enum ProcessStats {
    static func report(_ stats: GameServerStats) -> ServerStatsReport {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000
        return ServerStatsReport(
            tick: .init(
                count: stats.ticks, p50Ms: stats.tickP50Seconds * 1000, p90Ms: stats.tickP90Seconds * 1000, p99Ms: stats.tickP99Seconds * 1000,
                p999Ms: stats.tickP999Seconds * 1000, maxMs: stats.tickMaxSeconds * 1000, overruns: stats.overruns,
                phases: .init(receive: phase(stats.receive), simulate: phase(stats.simulate), snapshotSend: phase(stats.snapshotSend))),
            matches: stats.matches, connectedClients: stats.connectedClients, datagramsIn: stats.datagramsIn, datagramsOut: stats.datagramsOut,
            bytesIn: stats.bytesIn, bytesOut: stats.bytesOut, drops: stats.drops, rttP50Ms: stats.rttP50Seconds * 1000,
            rttP99Ms: stats.rttP99Seconds * 1000, meanPacketLoss: stats.meanPacketLoss, cpuSeconds: cpu, residentMemoryBytes: residentMemory())
    }

    static func phase(_ stats: PhaseStats) -> ServerStatsReport.Phase {
        .init(p50Ms: stats.p50Seconds * 1000, p99Ms: stats.p99Seconds * 1000, maxMs: stats.maxSeconds * 1000)
    }

    /// Resident set size from /proc/self/statm (pages × page size).
    static func residentMemory() -> UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else { return 0 }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
