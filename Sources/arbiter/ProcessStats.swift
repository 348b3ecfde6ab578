import ControlPlane
import Foundation
import GameRuntime
import MatchContract

#if canImport(Glibc)
import Glibc
#endif

/// Adds the process's CPU time and resident memory to the game server's published report.
enum ProcessStats {
    static func report(_ stats: ServerStatsReport) -> ServerStatsReport {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        var report = stats
        report.cpuSeconds = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000
        report.residentMemoryBytes = residentMemory()
        return report
    }

    /// Resident set size from /proc/self/statm (pages × page size).
    static func residentMemory() -> UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else { return 0 }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
