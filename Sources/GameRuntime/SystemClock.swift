#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CArbiterUDP
import Foundation
import NetProtocol

/// The real clocks, read only by drivers: a monotonic one for timers and deadlines, and the
/// wall clock for the token-expiry rule.
public struct SystemClock: Sendable {
    public init() {}

    /// Seconds on CLOCK_MONOTONIC.
    public func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1_000_000_000
    }

    /// Nanoseconds on CLOCK_MONOTONIC, for measuring durations.
    public func uptimeNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// Nanoseconds on CLOCK_REALTIME: the clock of the kernel's receive timestamps.
    public func realtimeNanoseconds() -> Int64 { arbiter_realtime_nanoseconds() }

    /// Sleeps until CLOCK_MONOTONIC reads `seconds` (returns at once if it already has).
    public func sleep(untilMonotonicSeconds seconds: Double) {
        guard seconds > 0 else { return }
        arbiter_sleep_until(UInt64(seconds * 1_000_000_000))
    }

    /// CPU time the calling thread has used, in seconds.
    public func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1_000_000_000
    }

    /// Unix time in whole seconds.
    public func unixSeconds() -> UInt64 {
        UInt64(max(0, time(nil)))
    }

    /// The wall clock, for timestamps in reports.
    public func date() -> Date { Date() }

    public func now() -> NetInstant {
        NetInstant(seconds: monotonicSeconds(), unixSeconds: unixSeconds())
    }
}

extension SystemClock {
    /// A seed for runs that were not given one: from the system CSPRNG, to be printed so the run
    /// can be replayed.
    public func freshSeed() -> UInt64 {
        var random = SystemRandomSource()
        var seed: UInt64 = 0
        withUnsafeMutableBytes(of: &seed) { random.fill($0) }
        return seed
    }
}
