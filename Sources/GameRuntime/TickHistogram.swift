import Histograms

/// Tick (and tick phase) durations in seconds: a ``SampleHistogram/durations()`` histogram
/// (100 ns steps up to 1000 s, within 1 % of a recorded duration). Fixed memory, no allocation
/// per sample, percentiles on demand, exact merges.
public struct TickHistogram: Sendable {
    public private(set) var samples = SampleHistogram.durations()

    public init() {}

    public var count: UInt64 { samples.count }
    /// The longest duration recorded, exactly.
    public var maxSeconds: Double { samples.maxValue }
    public var totalSeconds: Double { samples.total }

    public mutating func record(seconds: Double) {
        samples.record(seconds)
    }

    /// The duration at or below which `fraction` of the samples fall, in seconds (nearest rank;
    /// never above ``maxSeconds``; 0 when empty).
    public func percentile(_ fraction: Double) -> Double {
        samples.percentile(fraction)
    }

    public mutating func merge(_ other: TickHistogram) {
        samples.merge(other.samples)
    }
}
