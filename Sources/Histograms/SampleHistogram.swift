import Histogram

/// The one percentile implementation in Arbiter: an HDR histogram (hdrhistogram-swift) of
/// non-negative samples at a fixed relative precision. Memory is fixed when it is made, so
/// ``record(_:)`` never allocates (the game server records every tick), and percentiles cost one
/// pass over the buckets however many samples there are. Histograms of the same shape merge
/// exactly, so per-thread or per-run histograms add up to the histogram of every sample.
///
/// Samples are stored as whole multiples of ``resolution`` (rounded to the nearest); each is kept
/// to `significantDigits` decimal digits, so a percentile is within 10^-digits (relative) of a
/// recorded sample — 1 % for 2 digits, 0.1 % for 3. Samples above ``highest`` count as
/// ``highest``; negative and NaN samples count as 0. The largest sample and the sum are kept
/// exactly beside the buckets.
///
/// A percentile is by nearest rank: `percentile(f)` is the smallest recorded value that at least
/// `ceil(f × count)` samples are at or below (never above ``maxValue``; 0 when empty).
public struct SampleHistogram: Sendable {
    /// The value of one step (e.g. 1e-7 for 100 ns when samples are seconds).
    public let resolution: Double
    /// The largest value kept apart; larger samples are counted as this.
    public let highest: Double
    public let significantDigits: Int
    private var buckets: Histogram<UInt64>
    private let highestUnits: UInt64
    /// The largest sample recorded, exactly (0 when empty).
    public private(set) var maxValue = 0.0
    /// The sum of every sample recorded, exactly as recorded (clamped samples count clamped).
    public private(set) var total = 0.0

    /// - Parameters:
    ///   - resolution: the value of one step, > 0.
    ///   - highest: the largest value kept apart, at least twice `resolution`.
    ///   - significantDigits: decimal digits kept per sample, 1...5 (clamped).
    public init(resolution: Double, highest: Double, significantDigits: Int = 3) {
        let resolution = resolution.isFinite && resolution > 0 ? resolution : 1
        let units = (highest / resolution).rounded(.up)
        // At least two steps; at most 2^52 steps, which a Double still counts exactly.
        let highestUnits = units.isFinite ? UInt64(Swift.max(2, Swift.min(units, 0x1p52))) : 1 << 52
        let digits = Swift.max(1, Swift.min(5, significantDigits))
        self.resolution = resolution
        self.highestUnits = highestUnits
        self.highest = highest.isFinite && highest >= 2 * resolution ? highest : Double(highestUnits) * resolution
        self.significantDigits = digits
        buckets = Histogram(
            lowestDiscernibleValue: 1, highestTrackableValue: highestUnits,
            numberOfSignificantValueDigits: SignificantDigits(rawValue: Int8(digits)) ?? .three)
    }

    /// Durations in seconds: 100 ns steps up to 1000 s, 2 significant digits (about 28 KiB).
    public static func durations() -> SampleHistogram {
        SampleHistogram(resolution: 1e-7, highest: 1000, significantDigits: 2)
    }

    /// A histogram sized for `values`: 3 significant digits from the largest value down to about
    /// a millionth of it (smaller values are kept to the nearest 2^-32 of the largest).
    public init(of values: some Collection<Double>) {
        let top = values.reduce(0.0) { $1.isFinite ? Swift.max($0, $1) : $0 }
        self.init(resolution: top > 0 ? top / 0x1p32 : 1, highest: top > 0 ? top : 2, significantDigits: 3)
        for value in values { record(value) }
    }

    public var count: UInt64 { buckets.totalCount }
    public var isEmpty: Bool { count == 0 }
    /// The mean of the samples (0 when empty).
    public var mean: Double { count == 0 ? 0 : total / Double(count) }

    /// `value` in whole steps, clamped to 0...highest.
    private func steps(_ value: Double) -> UInt64 {
        guard value > 0 else { return 0 }  // also NaN
        let scaled = (value / resolution).rounded()
        return scaled >= Double(highestUnits) ? highestUnits : UInt64(scaled)
    }

    public mutating func record(_ value: Double) {
        buckets.record(steps(value))
        let kept = value > 0 ? Swift.min(value, highest) : 0
        total += kept
        if kept > maxValue { maxValue = kept }
    }

    /// The value at or below which `fraction` (0...1) of the samples fall; see the type's note.
    public func percentile(_ fraction: Double) -> Double {
        guard count > 0 else { return 0 }
        guard fraction < 1 else { return maxValue }
        let percent = Swift.max(0, fraction.isNaN ? 0 : fraction) * 100
        return Swift.min(maxValue, Double(buckets.valueAtPercentile(percent)) * resolution)
    }

    /// Adds every sample of `other`. Exact when both have the same shape (resolution, highest,
    /// digits); otherwise `other`'s samples are re-recorded at their bucket's value.
    public mutating func merge(_ other: SampleHistogram) {
        if other.resolution == resolution && other.highestUnits == highestUnits && other.significantDigits == significantDigits {
            buckets.add(other.buckets)
        } else {
            for bucket in other.buckets.recordedValues() {
                buckets.record(steps(Double(bucket.value) * other.resolution), count: bucket.count)
            }
        }
        total += other.total
        maxValue = Swift.max(maxValue, Swift.min(other.maxValue, highest))
    }

    /// Forgets every sample (keeps the memory).
    public mutating func reset() {
        buckets.reset()
        maxValue = 0
        total = 0
    }
}
