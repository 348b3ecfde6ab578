@testable import BotSwarm
import GameRuntime
import Testing

@Suite struct StatisticsTests {
    @Test func percentilesOfAKnownSet() {
        var generator = SeededGenerator(seed: 7)
        let values = (1...1000).map(Double.init).shuffled(using: &generator)
        let distribution = Distribution(values)
        // Nearest rank (the shared SampleHistogram's definition), within 0.1 %.
        #expect(distribution.count == 1000)
        #expect(abs(distribution.p50 - 500) <= 0.5)
        #expect(abs(distribution.p90 - 900) <= 0.9)
        #expect(abs(distribution.p99 - 990) <= 1)
        #expect(abs(distribution.p999 - 999) <= 1)
        #expect(distribution.max == 1000)
        #expect(Distribution([]).p99 == 0)
        #expect(Distribution([4]).p50 == 4)
        #expect(Distribution([1, 2]).scaled(1000).max == 2000)
    }

    @Test func mergedHistogramsEqualOneHistogramOfEverySample() {
        var generator = SeededGenerator(seed: 11)
        var parts = [TickHistogram](repeating: TickHistogram(), count: 4)
        var whole = TickHistogram()
        for index in 0..<10_000 {
            // A long tail: mostly 100 µs to 2 ms, now and then up to 40 ms.
            let seconds = index % 97 == 0 ? Double.random(in: 0.01...0.04, using: &generator) : Double.random(in: 0.0001...0.002, using: &generator)
            parts[index % 4].record(seconds: seconds)
            whole.record(seconds: seconds)
        }
        var merged = TickHistogram()
        for part in parts { merged.merge(part) }
        #expect(merged.count == whole.count)
        #expect(merged.maxSeconds == whole.maxSeconds)
        for fraction in [0.5, 0.9, 0.99, 0.999] { #expect(merged.percentile(fraction) == whole.percentile(fraction)) }
        // Within 1 % of a recorded duration.
        let p99 = merged.percentile(0.99)
        #expect(p99 >= 0.0019 * 0.99 && p99 <= 0.04 * 1.01)
    }

    @Test func cpuPerPlayerIsCpuOverPlayerSeconds() {
        let sampler = StatsSampler(probe: FixedProbe())
        sampler.record(elapsed: 1, cpuSeconds: 10, clients: 100)
        sampler.record(elapsed: 2, cpuSeconds: 10.5, clients: 100)
        sampler.record(elapsed: 4, cpuSeconds: 11.3, clients: 300)
        // 0.5 s over 100 player-seconds, then 0.8 s over 2 s × 200 average = 400: 1.3 s / 500.
        #expect(abs(sampler.cpuMicrosPerPlayerSecond(from: 0, to: 10) - 2600) < 1e-6)
        #expect(abs(sampler.cpuMicrosPerPlayerSecond(from: 0, to: 2) - 5000) < 1e-6)
        #expect(sampler.cpuMicrosPerPlayerSecond(from: 5, to: 10) == 0)
    }
}

struct FixedProbe: ServerProbe {
    func sample() async -> ServerSample? { nil }
}

/// SplitMix64: reproducible shuffles and samples.
struct SeededGenerator: RandomNumberGenerator {
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
