import Histograms
import Testing

@Suite struct SampleHistogramTests {
    @Test func emptyHistogramAnswersZero() {
        let histogram = SampleHistogram.durations()
        #expect(histogram.count == 0 && histogram.isEmpty)
        #expect(histogram.percentile(0.5) == 0 && histogram.percentile(1) == 0)
        #expect(histogram.maxValue == 0 && histogram.mean == 0)
    }

    /// Whole numbers below 2 × 10^digits are kept exactly: the nearest-rank percentiles of
    /// 1...1000 are known.
    @Test func nearestRankPercentilesOfAKnownSet() {
        var generator = SplitMix(seed: 7)
        var histogram = SampleHistogram(resolution: 1, highest: 100_000)
        for value in (1...1000).map(Double.init).shuffled(using: &generator) { histogram.record(value) }
        #expect(histogram.count == 1000)
        #expect(histogram.percentile(0) == 1)
        #expect(histogram.percentile(0.001) == 1)
        #expect(histogram.percentile(0.5) == 500)
        #expect(histogram.percentile(0.9) == 900)
        #expect(histogram.percentile(0.99) == 990)
        #expect(histogram.percentile(0.999) == 999)
        #expect(histogram.percentile(1) == 1000)
        #expect(histogram.maxValue == 1000)
        #expect(histogram.mean == 500.5)
    }

    @Test func aSingleSampleIsEveryPercentile() {
        var histogram = SampleHistogram.durations()
        histogram.record(0.0123)
        for fraction in [0.0, 0.5, 0.99, 1] { #expect(abs(histogram.percentile(fraction) - 0.0123) < 1e-7) }
        #expect(histogram.maxValue == 0.0123)
    }

    /// Against the exact nearest-rank percentiles of a long-tailed sample, at both precisions.
    @Test(arguments: [2, 3])
    func percentilesAreWithinTheRelativePrecision(digits: Int) {
        var generator = SplitMix(seed: 11)
        var histogram = SampleHistogram(resolution: 1e-7, highest: 1000, significantDigits: digits)
        var values: [Double] = []
        for index in 0..<20_000 {
            // Mostly 50 µs to 2 ms, now and then up to 40 ms.
            let value = index % 97 == 0 ? Double.random(in: 0.01...0.04, using: &generator) : Double.random(in: 0.00005...0.002, using: &generator)
            values.append(value)
            histogram.record(value)
        }
        let sorted = values.sorted()
        let tolerance = digits == 2 ? 0.01 : 0.001
        for fraction in [0.01, 0.25, 0.5, 0.9, 0.99, 0.999] {
            let rank = Int((fraction * Double(sorted.count)).rounded(.up))
            let exact = sorted[rank - 1]
            let estimate = histogram.percentile(fraction)
            #expect(abs(estimate - exact) <= exact * tolerance + 1e-7, "p\(fraction * 100): \(estimate) vs \(exact)")
        }
        #expect(histogram.maxValue == sorted.last)
        #expect(abs(histogram.total - values.reduce(0, +)) < 1e-9)
    }

    @Test func outOfRangeSamplesAreClampedNotLost() {
        var histogram = SampleHistogram(resolution: 0.001, highest: 10)
        histogram.record(-3)
        histogram.record(.nan)
        histogram.record(50)
        histogram.record(.infinity)
        #expect(histogram.count == 4)
        #expect(histogram.percentile(0.5) == 0)
        #expect(histogram.percentile(1) == 10)
        #expect(histogram.maxValue == 10)
        #expect(histogram.total == 20)
    }

    @Test func mergedHistogramsEqualOneHistogramOfEverySample() {
        var generator = SplitMix(seed: 3)
        var parts = [SampleHistogram](repeating: .durations(), count: 4)
        var whole = SampleHistogram.durations()
        for index in 0..<10_000 {
            let value = Double.random(in: 0.0001...0.05, using: &generator)
            parts[index % 4].record(value)
            whole.record(value)
        }
        var merged = SampleHistogram.durations()
        for part in parts { merged.merge(part) }
        #expect(merged.count == whole.count)
        #expect(merged.maxValue == whole.maxValue)
        for fraction in [0.1, 0.5, 0.9, 0.99, 0.999] { #expect(merged.percentile(fraction) == whole.percentile(fraction)) }

        // A histogram of another shape merges approximately (at the coarser precision).
        var other = SampleHistogram(resolution: 1e-6, highest: 10, significantDigits: 3)
        other.merge(whole)
        #expect(other.count == whole.count)
        for fraction in [0.5, 0.99] { #expect(abs(other.percentile(fraction) - whole.percentile(fraction)) <= whole.percentile(fraction) * 0.02) }
    }

    @Test func resetForgetsEverySample() {
        var histogram = SampleHistogram.durations()
        for value in [0.001, 0.002, 0.5] { histogram.record(value) }
        histogram.reset()
        #expect(histogram.count == 0 && histogram.maxValue == 0 && histogram.total == 0 && histogram.percentile(0.99) == 0)
        histogram.record(0.004)
        #expect(abs(histogram.percentile(0.5) - 0.004) < 1e-7)
    }

    /// Sized from the values: the same relative precision whatever their unit.
    @Test func sizedForItsValuesInAnyUnit() {
        for scale in [1e-3, 1.0, 1e3] {
            let values = (1...1000).map { Double($0) * scale }
            let histogram = SampleHistogram(of: values)
            #expect(histogram.count == 1000)
            #expect(histogram.maxValue == 1000 * scale)
            #expect(abs(histogram.percentile(0.5) - 500 * scale) <= 500 * scale * 0.001)
            #expect(abs(histogram.percentile(0.99) - 990 * scale) <= 990 * scale * 0.001)
        }
        #expect(SampleHistogram(of: [Double]()).percentile(0.5) == 0)
        #expect(SampleHistogram(of: [0, 0]).percentile(0.5) == 0)
    }
}

/// SplitMix64: reproducible samples.
struct SplitMix: RandomNumberGenerator {
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
