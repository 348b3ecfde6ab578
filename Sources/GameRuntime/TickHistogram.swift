import Foundation

/// Tick durations in fixed logarithmic buckets (1 µs to ~1 s): constant memory, no allocation per
/// sample, percentiles on demand.
public struct TickHistogram: Sendable {
    /// Bucket i counts samples in [2^(i/4) µs, 2^((i+1)/4) µs).
    private var buckets = [UInt64](repeating: 0, count: 84)
    public private(set) var count: UInt64 = 0
    public private(set) var maxSeconds = 0.0
    public private(set) var totalSeconds = 0.0

    public init() {}

    public mutating func record(seconds: Double) {
        let micro = max(1, seconds * 1_000_000)
        let index = min(buckets.count - 1, max(0, Int((log2(micro) * 4).rounded(.down))))
        buckets[index] &+= 1
        count &+= 1
        totalSeconds += seconds
        maxSeconds = max(maxSeconds, seconds)
    }

    /// The duration below which `fraction` of the samples fall (upper bucket edge), in seconds.
    public func percentile(_ fraction: Double) -> Double {
        guard count > 0 else { return 0 }
        let target = UInt64((Double(count) * fraction).rounded(.up))
        var seen: UInt64 = 0
        for (index, bucket) in buckets.enumerated() {
            seen += bucket
            if seen >= max(1, target) { return min(maxSeconds, exp2(Double(index + 1) / 4) / 1_000_000) }
        }
        return maxSeconds
    }

    public mutating func merge(_ other: TickHistogram) {
        for index in buckets.indices { buckets[index] &+= other.buckets[index] }
        count &+= other.count
        totalSeconds += other.totalSeconds
        maxSeconds = max(maxSeconds, other.maxSeconds)
    }

}
