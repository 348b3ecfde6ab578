import MatchContract

/// Tick (and tick phase) durations in seconds, in the ``DurationHistogram`` buckets the stats
/// report publishes (1 µs steps below 128 µs, within 0.79 % above), with the longest duration
/// kept exactly beside them. Fixed memory, no allocation per sample, percentiles on demand,
/// exact merges.
///
/// The server's running percentiles and the readers' differences of published buckets come from
/// the same counts, so a reader's figure for a stretch of time and the server's own agree.
public struct TickHistogram: Sendable {
    public private(set) var buckets = DurationHistogram()
    /// The longest duration recorded, exactly.
    public private(set) var maxSeconds = 0.0
    public private(set) var totalSeconds = 0.0

    public init() {}

    public var count: UInt64 { buckets.count }

    public mutating func record(seconds: Double) {
        buckets.record(seconds: seconds)
        let kept = seconds > 0 ? seconds : 0
        totalSeconds += kept
        if kept > maxSeconds { maxSeconds = kept }
    }

    /// The duration at or below which `fraction` of the samples fall, in seconds (nearest rank,
    /// the upper bound of its bucket; never above ``maxSeconds``; 0 when empty).
    public func percentile(_ fraction: Double) -> Double {
        Swift.min(maxSeconds, buckets.percentileSeconds(fraction))
    }

    public mutating func merge(_ other: TickHistogram) {
        buckets += other.buckets
        totalSeconds += other.totalSeconds
        maxSeconds = Swift.max(maxSeconds, other.maxSeconds)
    }

    /// The buckets for a published report, in storage of their own: the next ``record(seconds:)``
    /// then writes to a buffer no report shares, so it copies nothing on the tick thread.
    public var published: DurationHistogram { buckets.detachedCopy() }
}
