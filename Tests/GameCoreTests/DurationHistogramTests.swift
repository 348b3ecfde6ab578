import Foundation
import MatchContract
import Testing

/// The stats report's tick buckets: a fixed layout, and sums, differences and percentiles that a
/// reader of two readings (or of several game workers) can rely on.
@Suite struct DurationHistogramTests {
    @Test func bucketsAreContiguousFixedAndWithinOneMicrosecondOrOnePercent() {
        #expect(DurationHistogram.bounds(ofBucket: 0) == 0..<1)
        #expect(DurationHistogram.bounds(ofBucket: 127) == 127..<128)
        #expect(DurationHistogram.bounds(ofBucket: 255) == 255..<256)
        #expect(DurationHistogram.bounds(ofBucket: 256) == 256..<258)
        #expect(DurationHistogram.bounds(ofBucket: 384) == 512..<516)
        #expect(DurationHistogram.bounds(ofBucket: DurationHistogram.bucketCount - 1) == 16_711_680..<16_777_216)
        var previousEnd: UInt64 = 0
        for index in 0..<DurationHistogram.bucketCount {
            let bounds = DurationHistogram.bounds(ofBucket: index)
            #expect(bounds.lowerBound == previousEnd, "bucket \(index) starts where the one before ends")
            #expect(DurationHistogram.bucketIndex(microseconds: bounds.lowerBound) == index)
            #expect(DurationHistogram.bucketIndex(microseconds: bounds.upperBound - 1) == index)
            if bounds.lowerBound >= DurationHistogram.linearMicroseconds {
                #expect(Double(bounds.count) / Double(bounds.lowerBound) <= 1.0 / 128)
            } else {
                #expect(bounds.count == 1)
            }
            previousEnd = bounds.upperBound
        }
        #expect(previousEnd == DurationHistogram.highestMicroseconds)
        // Past the last bucket, durations count in it.
        #expect(DurationHistogram.bucketIndex(microseconds: .max) == DurationHistogram.bucketCount - 1)
    }

    @Test func recordsSecondsAndNanosecondsInTheirMicrosecond() {
        var histogram = DurationHistogram()
        histogram.record(seconds: 0.000_999_9)  // 999.9 µs: bucket [996, 1000)
        histogram.record(nanoseconds: 999_999)
        histogram.record(seconds: -1)
        histogram.record(seconds: .nan)
        histogram.record(seconds: 1e9)
        #expect(histogram.count == 5)
        #expect(histogram.nonEmptyBuckets.map(\.lowerMicroseconds) == [0, 996, 16_711_680])
        #expect(histogram.nonEmptyBuckets.map(\.count) == [2, 2, 1])
        #expect(histogram.maxSeconds == 16_777_216.0 / 1_000_000)
    }

    @Test func percentilesAreTheUpperBoundOfTheNearestRanksBucket() {
        // 1 to 1000 µs, one each.
        var histogram = DurationHistogram()
        for microseconds in 1...1000 { histogram.record(microseconds: UInt64(microseconds)) }
        #expect(histogram.count == 1000)
        // The 500th is 500 µs, in [500, 502); the 990th is 990 µs, in [988, 992); the 999th in [996, 1000).
        #expect(histogram.percentileSeconds(0.5) == 502.0 / 1_000_000)
        #expect(histogram.percentileSeconds(0.99) == 992.0 / 1_000_000)
        #expect(histogram.percentileSeconds(0.999) == 1000.0 / 1_000_000)
        #expect(histogram.percentileSeconds(1) == 1004.0 / 1_000_000)
        #expect(histogram.maxSeconds == 1004.0 / 1_000_000)
        #expect(histogram.percentileSeconds(0) == 2.0 / 1_000_000)
        #expect(histogram.percentileSeconds(.nan) == 2.0 / 1_000_000)
        // Below 128 µs the answer is within one microsecond.
        var short = DurationHistogram()
        short.record(microseconds: 17, count: 3)
        #expect(short.percentileSeconds(0.5) == 18.0 / 1_000_000)
        #expect(DurationHistogram().percentileSeconds(0.99) == 0)
        #expect(DurationHistogram().maxSeconds == 0)
    }

    @Test func sumsAreOneHistogramOfEveryDurationAndDifferencesTheDurationsInBetween() {
        var generator = SplitMix(seed: 3)
        var parts = [DurationHistogram](repeating: DurationHistogram(), count: 3)
        var whole = DurationHistogram()
        for index in 0..<6000 {
            let microseconds = index % 101 == 0 ? UInt64.random(in: 10_000...40_000, using: &generator) : UInt64.random(in: 50...2_000, using: &generator)
            parts[index % 3].record(microseconds: microseconds)
            whole.record(microseconds: microseconds)
        }
        let sum = parts[0] + parts[1] + parts[2]
        #expect(sum == whole)
        #expect(parts[2] + parts[0] + parts[1] == whole)
        for fraction in [0.5, 0.9, 0.99, 0.999] { #expect(sum.percentileSeconds(fraction) == whole.percentileSeconds(fraction)) }
        // A later reading minus an earlier one: exactly what was recorded in between.
        let earlier = parts[0]
        let later = parts[0] + parts[1]
        #expect(later.includes(earlier))
        #expect(later - earlier == parts[1])
        #expect((later - earlier).count == parts[1].count)
        #expect(whole - whole == DurationHistogram())
        // A bucket that shrank (a restarted server) counts nothing, and `includes` tells.
        #expect(!earlier.includes(later))
        #expect((earlier - later).isEmpty)
    }

    @Test func theJSONFormIsTheNonEmptyBucketsByLowerBound() throws {
        var histogram = DurationHistogram()
        histogram.record(microseconds: 5, count: 2)
        histogram.record(microseconds: 1001)  // in [1000, 1004)
        let json = String(decoding: try JSONEncoder().encode(histogram), as: UTF8.self)
        #expect(json == #"{"buckets":[[5,2],[1000,1]]}"#)
        #expect(try JSONDecoder().decode(DurationHistogram.self, from: Data(json.utf8)) == histogram)
        // Any value inside a bucket names it; a bucket past the last counts in the last.
        let loose = try JSONDecoder().decode(DurationHistogram.self, from: Data(#"{"buckets":[[1003,4],[99999999999,1]]}"#.utf8))
        #expect(loose.nonEmptyBuckets.map(\.lowerMicroseconds) == [1000, 16_711_680])
        #expect(try JSONDecoder().decode(DurationHistogram.self, from: Data(#"{"buckets":[]}"#.utf8)).isEmpty)
        for malformed in [#"{"buckets":[[1,2,3]]}"#, #"{"buckets":[[1]]}"#, #"{"buckets":[[-1,2]]}"#, #"{}"#] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(DurationHistogram.self, from: Data(malformed.utf8)) }
        }
    }

    @Test func theStatsReportCarriesItsHistogramsAndDecodesWithoutThem() throws {
        var ticks = DurationHistogram()
        ticks.record(microseconds: 900, count: 10)
        var report = ServerStatsReport.empty
        report.tick.histogram = ticks
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any])
        let tick = try #require(object["tick"] as? [String: Any])
        #expect((tick["histogram"] as? [String: Any])?["buckets"] as? [[Int]] == [[900, 10]])
        let phases = try #require(tick["phases"] as? [String: Any])
        for name in ["receive", "simulate", "snapshot_send"] {
            #expect(((phases[name] as? [String: Any])?["histogram"] as? [String: Any])?["buckets"] as? [[Int]] == [])
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        #expect(try decoder.decode(ServerStatsReport.self, from: encoder.encode(report)) == report)
        // An older server's report, without histograms.
        var older = report
        older.tick.histogram = nil
        older.tick.phases.receive.histogram = nil
        let decoded = try decoder.decode(ServerStatsReport.self, from: encoder.encode(older))
        #expect(decoded.tick.histogram == nil && decoded.tick.phases.receive.histogram == nil)
    }
}

/// SplitMix64: reproducible durations.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
