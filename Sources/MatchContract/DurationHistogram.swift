/// Counts of durations in fixed log-linear buckets, the form in which a game server publishes
/// its tick and phase durations (`GET /v1/server/stats`) so that a reader can take the
/// difference of two readings (the ticks between them) or the sum of several servers'.
///
/// The bucket bounds are fixed, in whole microseconds, and never depend on what was recorded:
/// - below 128 µs, one bucket per microsecond: `[n, n + 1)`;
/// - from 128 µs up, 128 buckets per doubling: in `[2^k, 2^(k+1))` µs each bucket is
///   `2^(k-7)` µs wide, under 0.79 % of its lower bound;
/// - the last bucket ends at 2^24 µs (16.78 s); longer durations count in it.
///
/// So there are 2,304 buckets (18 KiB), allocated once: ``record(nanoseconds:)`` never
/// allocates. A duration is reported as the upper bound of its bucket, so a percentile is never
/// below the true one and at most one bucket above it: 1 µs below 128 µs, 0.79 % above.
///
/// Readings of one server's counts only grow, so `later - earlier` holds exactly the durations
/// recorded in between; `a + b` holds both sets, as one histogram of every duration would.
///
/// This is its own type, not the HDR histogram the rest of Arbiter uses, because it is a wire
/// format: its bounds are documented in the OpenAPI document and must not change with a
/// library's internals.
///
/// In JSON it is `{"buckets": [[lower_us, count], …]}`: the non-empty buckets in ascending
/// order, each as its lower bound in microseconds and how many durations it holds.
public struct DurationHistogram: Sendable, Equatable {
    /// Buckets per doubling above ``linearMicroseconds`` (2^7).
    public static let bucketsPerDoubling = 128
    /// Below this every bucket is one microsecond wide.
    public static let linearMicroseconds: UInt64 = 128
    /// The end of the last bucket: 2^24 µs, about 16.78 s.
    public static let highestMicroseconds: UInt64 = 1 << 24
    public static let bucketCount = 2304

    private var counts: [UInt64]
    /// How many durations it holds.
    public private(set) var count: UInt64 = 0

    public init() {
        counts = [UInt64](repeating: 0, count: Self.bucketCount)
    }

    /// A histogram of `buckets`, each given by any microsecond value inside it (normally its
    /// lower bound, as the JSON form has it) and a count. Values at or past
    /// ``highestMicroseconds`` count in the last bucket; counts saturate rather than overflow.
    public init(buckets: some Sequence<(lowerMicroseconds: UInt64, count: UInt64)>) {
        self.init()
        for bucket in buckets { record(microseconds: bucket.lowerMicroseconds, count: bucket.count) }
    }

    public var isEmpty: Bool { count == 0 }

    /// The bucket that holds a duration of `microseconds`.
    public static func bucketIndex(microseconds: UInt64) -> Int {
        let value = Swift.min(microseconds, highestMicroseconds - 1)
        guard value >= linearMicroseconds else { return Int(value) }
        // value is in [2^k, 2^(k+1)) with k >= 7; its bucket is 2^(k-7) wide.
        let shift = (63 - value.leadingZeroBitCount) - 7
        return shift * bucketsPerDoubling + Int(value >> UInt64(shift))
    }

    /// The bucket's bounds in microseconds, `lower..<upper`.
    /// - Precondition: `index` is in `0..<bucketCount`.
    public static func bounds(ofBucket index: Int) -> Range<UInt64> {
        precondition(index >= 0 && index < bucketCount, "no bucket \(index)")
        let shift = Swift.max(0, index / bucketsPerDoubling - 1)
        let lower = UInt64(index - shift * bucketsPerDoubling) << UInt64(shift)
        return lower..<(lower + (1 << UInt64(shift)))
    }

    public mutating func record(microseconds: UInt64, count: UInt64 = 1) {
        guard count > 0 else { return }
        let index = Self.bucketIndex(microseconds: microseconds)
        counts[index] = counts[index].addingSaturating(count)
        self.count = self.count.addingSaturating(count)
    }

    /// Records a duration, truncated to whole microseconds.
    public mutating func record(nanoseconds: UInt64) {
        record(microseconds: nanoseconds / 1000)
    }

    /// Records a duration in seconds (negative and NaN count as 0).
    public mutating func record(seconds: Double) {
        let microseconds = seconds * 1_000_000
        guard microseconds >= 1 else { return record(microseconds: 0) }  // also NaN
        record(microseconds: microseconds < Double(Self.highestMicroseconds) ? UInt64(microseconds) : Self.highestMicroseconds)
    }

    /// The non-empty buckets, lowest first: each bucket's lower bound in microseconds and count.
    public var nonEmptyBuckets: [(lowerMicroseconds: UInt64, count: UInt64)] {
        counts.indices.compactMap { index in counts[index] == 0 ? nil : (Self.bounds(ofBucket: index).lowerBound, counts[index]) }
    }

    /// The duration, in seconds, at or below which `fraction` (0...1) of the durations fall, by
    /// nearest rank: the upper bound of the bucket that holds the `ceil(fraction × count)`-th
    /// shortest duration (the first one for 0). 0 when empty.
    public func percentileSeconds(_ fraction: Double) -> Double {
        guard count > 0 else { return 0 }
        let clamped = fraction.isNaN ? 0 : Swift.min(1, Swift.max(0, fraction))
        let rank = Swift.max(1, Swift.min(count, UInt64((clamped * Double(count)).rounded(.up))))
        var seen: UInt64 = 0
        for index in counts.indices where counts[index] > 0 {
            seen += counts[index]
            if seen >= rank { return Self.seconds(Self.bounds(ofBucket: index).upperBound) }
        }
        return maxSeconds
    }

    /// The upper bound of the highest non-empty bucket, in seconds (0 when empty).
    public var maxSeconds: Double {
        guard let index = counts.lastIndex(where: { $0 > 0 }) else { return 0 }
        return Self.seconds(Self.bounds(ofBucket: index).upperBound)
    }

    /// Whether every bucket holds at least as many as `earlier`'s: whether `earlier` can be an
    /// earlier reading of these same counts (it cannot when the server restarted in between).
    public func includes(_ earlier: DurationHistogram) -> Bool {
        zip(counts, earlier.counts).allSatisfy { $0 >= $1 }
    }

    /// Both sets of durations: several game workers' histograms added up are the histogram of
    /// the whole server.
    public static func + (lhs: DurationHistogram, rhs: DurationHistogram) -> DurationHistogram {
        var sum = lhs
        sum += rhs
        return sum
    }

    public static func += (lhs: inout DurationHistogram, rhs: DurationHistogram) {
        for index in lhs.counts.indices { lhs.counts[index] = lhs.counts[index].addingSaturating(rhs.counts[index]) }
        lhs.count = lhs.count.addingSaturating(rhs.count)
    }

    /// The durations recorded between an `earlier` reading and this one (`later - earlier`). A
    /// bucket that holds fewer than `earlier`'s counts 0 (see ``includes(_:)``).
    public static func - (later: DurationHistogram, earlier: DurationHistogram) -> DurationHistogram {
        var difference = DurationHistogram()
        for index in later.counts.indices {
            let (value, overflow) = later.counts[index].subtractingReportingOverflow(earlier.counts[index])
            guard !overflow, value > 0 else { continue }
            difference.counts[index] = value
            difference.count = difference.count.addingSaturating(value)
        }
        return difference
    }

    /// The same counts in storage of its own, so that recording into `self` afterwards copies
    /// nothing (a plain copy shares the buffer until one of them is written to).
    public func detachedCopy() -> DurationHistogram {
        var copy = self
        copy.counts = counts.map { $0 }
        return copy
    }

    private static func seconds(_ microseconds: UInt64) -> Double { Double(microseconds) / 1_000_000 }
}

extension DurationHistogram: Codable {
    private enum CodingKeys: String, CodingKey { case buckets }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let pairs = try container.decode([[UInt64]].self, forKey: .buckets)
        self.init()
        for pair in pairs {
            guard pair.count == 2 else {
                throw DecodingError.dataCorruptedError(forKey: .buckets, in: container, debugDescription: "a bucket is [lower_us, count], got \(pair.count) numbers")
            }
            record(microseconds: pair[0], count: pair[1])
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(nonEmptyBuckets.map { [$0.lowerMicroseconds, $0.count] }, forKey: .buckets)
    }
}

extension UInt64 {
    fileprivate func addingSaturating(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
