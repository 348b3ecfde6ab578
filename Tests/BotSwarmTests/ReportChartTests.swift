@testable import BotSwarm
import Testing

/// The HTML report's charts: nice ticks, units, headroom, the run's own time axis and the RTT
/// histogram's range.
@Suite struct ReportChartTests {
    @Test func niceStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        #expect(Axis.niceStep(span: 10, target: 5) == 2)
        #expect(Axis.niceStep(span: 15, target: 10) == 2)
        #expect(Axis.niceStep(span: 65, target: 10) == 10)
        #expect(Axis.niceStep(span: 46.5, target: 10) == 5)
        #expect(abs(Axis.niceStep(span: 0.341, target: 6) - 0.1) < 1e-12)
        #expect(abs(Axis.niceStep(span: 0.0033, target: 6) - 0.001) < 1e-15)
        #expect(Axis.niceStep(span: 30_000, target: 6) == 5_000)
        #expect(Axis.niceStep(span: 0, target: 6) == 1)
        // For a range rounded out to steps: the nearest, so 16 to 36.4 ms is 16 to 38 in 2s, not 15 to 40 in 5s.
        #expect(Axis.nearestNiceStep(span: 20.4, target: 10) == 2)
        #expect(Axis.nearestNiceStep(span: 35, target: 10) == 5)
        #expect(Axis.nearestNiceStep(span: 75, target: 10) == 10)
        let rtt = Axis.range(from: 16.2, to: 36.43)
        #expect(rtt.lower == 16 && rtt.upper == 38 && rtt.step == 2)
    }

    @Test func valueAxesStartAtZeroWithHeadroomAboveTheMaximum() {
        // 0.31 × 1.1 = 0.341: the next step of 0.05 is 0.35.
        let small = Axis.values(max: 0.31)
        #expect(small.lower == 0 && abs(small.upper - 0.35) < 1e-12 && abs(small.step - 0.05) < 1e-12)
        #expect(small.ticks.count == 8)
        #expect(zip(small.ticks, [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35]).allSatisfy { abs($0 - $1) < 1e-12 })
        let coarse = Axis.values(max: 0.31, target: 4)
        #expect(abs(coarse.upper - 0.4) < 1e-12 && abs(coarse.step - 0.1) < 1e-12 && coarse.ticks.count == 5)
        // 100 × 1.1 = 110: the next step of 20 is 120.
        let hundred = Axis.values(max: 100)
        #expect(hundred.upper == 120 && hundred.step == 20 && hundred.ticks == [0, 20, 40, 60, 80, 100, 120])
        // 188 KiB/s: the top is 250 in steps of 50, not 188 on the border.
        let rate = Axis.values(max: 192_472.45 / 1024)
        #expect(rate.upper == 250 && rate.step == 50 && rate.ticks.count == 6)
        #expect(Axis.values(max: 0).upper == 1)
        for max in [0.003, 0.7, 1, 9.99, 16.7, 42, 999, 123_456] {
            let axis = Axis.values(max: max)
            #expect(axis.upper >= max * 1.1 - 1e-9 && axis.ticks.count >= 4, "\(max): \(axis)")
        }
    }

    @Test func timeAxesEndAtTheRunsEnd() {
        let fifteen = Axis.time(end: 15)
        #expect(fifteen.upper == 15 && fifteen.ticks == [0, 2, 4, 6, 8, 10, 12, 14, 15])
        #expect(Axis.time(end: 18).ticks == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18])
        #expect(Axis.time(end: 65).ticks == [0, 10, 20, 30, 40, 50, 60, 65])
        #expect(Axis.time(end: 61).ticks == [0, 10, 20, 30, 40, 50, 60])
        #expect(Axis.range(from: 12.3, to: 47.3).lower == 10 && Axis.range(from: 12.3, to: 47.3).upper == 50)
    }

    @Test func labelsCarryUnitsWithTheStepsPrecision() {
        #expect(ChartUnit.milliseconds.label(0.25, step: 0.05) == "0.25 ms")
        #expect(ChartUnit.milliseconds.label(2, step: 0.5) == "2.0 ms")
        #expect(ChartUnit.milliseconds.label(0, step: 0.5) == "0 ms")
        #expect(ChartUnit.seconds.label(10, step: 2) == "10 s")
        #expect(ChartUnit.byteRate(max: 900) == ChartUnit(symbol: "B/s", divisor: 1))
        let kib = ChartUnit.byteRate(max: 192_472.45)
        #expect(kib.symbol == "KiB/s")
        #expect(kib.scaledValue(192_472.45) == "188 KiB/s")
        #expect(ChartUnit.byteRate(max: 3_000_000).symbol == "MiB/s")
        #expect(ChartUnit.milliseconds.value(16.666) == "16.7 ms")
    }

    @Test func everyChartHasLabelledTicksWithUnitsOnBothAxes() {
        let report = Self.report(ramp: 3, duration: 15)
        let charts = report.chartSVGs
        #expect(charts.count == 3)
        let units: [(x: String, y: String)] = [(" s", " ms"), (" ms", " %"), (" s", " KiB/s")]
        for (svg, unit) in zip(charts, units) {
            let x = Self.labels(svg, "tick-x"), y = Self.labels(svg, "tick-y")
            #expect(x.count >= 3 && x.allSatisfy { $0.hasSuffix(unit.x) }, "\(x)")
            #expect(y.count >= 3 && y.allSatisfy { $0.hasSuffix(unit.y) }, "\(y)")
            // Gridlines, a legend on the chart, and a scalable width.
            #expect(svg.contains("viewBox=") && svg.contains("width=\"100%\""))
            #expect(svg.contains("class=\"legend\""))
            #expect(svg.components(separatedBy: "stroke=\"#e2e2e2\"").count - 1 == x.count + y.count)
        }
        #expect(Self.labels(charts[2], "legend") == ["in (bots to server)", "out (server to bots)"])
        // The tick line has headroom: the top label is above the largest p99.
        let top = Self.labels(charts[0], "tick-y").last
        #expect(top == "0.35 ms")
        let page = report.html
        #expect(page.contains("3 s ramp + 15 s"))
        #expect(page.components(separatedBy: "<svg").count - 1 == 3)
    }

    @Test func theTimeAxisIsTheRunsOwnDuration() throws {
        // A 15 s run sampled about once a second, and samples after its end (the sampler's grace).
        let report = Self.report(ramp: 0, duration: 15)
        let chart = try #require(report.tickChart)
        #expect(chart.xAxis.lower == 0 && chart.xAxis.upper == 15)
        #expect(chart.visibleSeries[0].points.allSatisfy { $0.x <= 15 })
        #expect(chart.visibleSeries[0].points.count == 14)
        let labels = Self.labels(chart.svg, "tick-x")
        #expect(labels.first == "0 s" && labels.last == "15 s", "\(labels)")
        #expect(Self.labels(try #require(report.bandwidthChart).svg, "tick-x").last == "15 s")
        #expect(Self.report(ramp: 3, duration: 15).tickChart?.xAxis.upper == 18)
    }

    @Test func theRTTHistogramCoversP0ToP999AndNotesTheTail() throws {
        // 10,000 samples from 10 to 30 ms, and 5 far out.
        var values = (0..<10_000).map { 10 + Double($0 % 2000) / 100 }
        values += [120, 150, 210, 95, 300]
        let chart = HistogramChart(title: "RTT", name: "RTT samples", colour: "#2ca02c", values: values, unit: .milliseconds, xTitle: "round-trip time (ms)")
        let layout = try #require(chart.layout)
        #expect(layout.axis.lower <= 10 && layout.axis.upper == 30)
        #expect(layout.above == 5 && layout.max == 300)
        #expect(layout.counts.reduce(0, +) == 10_000)
        #expect(layout.counts.count >= 20 && layout.counts.count <= 80)
        #expect(chart.tailNote == "5 samples above 30 ms, max 300 ms, not shown")
        #expect(chart.svg.contains("5 samples above 30 ms, max 300 ms, not shown"))
        let x = Self.labels(chart.svg, "tick-x")
        #expect(x.last == "30 ms" && x.count >= 5)
        // Without a tail, no note.
        let body = HistogramChart(title: "RTT", name: "RTT", colour: "#000", values: [5, 6, 7], unit: .milliseconds, xTitle: "ms")
        #expect(body.tailNote == nil && body.layout?.above == 0)
        // One value over and over still gets an axis around it.
        let flat = try #require(HistogramChart(title: "RTT", name: "RTT", colour: "#000", values: [16, 16, 16], unit: .milliseconds, xTitle: "ms").layout)
        #expect(flat.axis.lower <= 16 && flat.axis.upper > 16 && flat.counts.reduce(0, +) == 3)
        #expect(HistogramChart(title: "RTT", name: "RTT", colour: "#000", values: [], unit: .milliseconds, xTitle: "ms").layout == nil)
        // The report's page says it in words as well.
        var report = Self.report(ramp: 0, duration: 15)
        report.rttSamplesMs = values
        #expect(report.html.contains("5 samples above 30 ms, max 300 ms, not shown"))
    }

    /// The text of every `<text class="…">` in `svg`.
    static func labels(_ svg: String, _ kind: String) -> [String] {
        svg.components(separatedBy: "class=\"\(kind)\"").dropFirst().compactMap { part in
            guard let open = part.firstIndex(of: ">"), let close = part.range(of: "</text>") else { return nil }
            return String(part[part.index(after: open)..<close.lowerBound])
        }
    }

    /// A report with a tick p99 of 0.1 to 0.31 ms and about 188 KiB/s out, sampled every 1.02 s
    /// for two seconds past the run's end.
    static func report(ramp: Double, duration: Double) -> SwarmReport {
        let end = ramp + duration
        let times = (1...Int(end + 2)).map { Double($0) * 1.02 }
        var report = SwarmReport(
            bots: 32, playersPerGame: 16, durationSeconds: duration, seed: 1, conditions: [:], connected: 32, failedJoins: 0, disconnectsByReason: [:],
            serverTickMs: Distribution([0.1, 0.2, 0.31]), serverTickOverruns: 0, clientRttMs: Distribution([]), snapshotInterArrivalMs: Distribution([]),
            inputAckLatencyMs: Distribution([]), predictionCorrectionUnits: Distribution([]), interpolationDelayMs: Distribution([]),
            reliableSent: 0, reliableDelivered: 0, chatSent: 0, chatReceived: 0,
            bandwidthPerClientUpBytesPerSecond: 1500, bandwidthPerClientDownBytesPerSecond: 6000, serverCpuSeconds: 1, serverPeakMemoryBytes: 0,
            leaderboardQueries: 0,
            tickOverTime: times.enumerated().map { [$1, $0 == 5 ? 0.31 : 0.1 + Double($0 % 4) * 0.02] },
            bandwidthOverTime: times.map { [$0, 48_000, $0 > 10 && $0 < 11 ? 192_472.45 : 150_000] },
            rttSamplesMs: (0..<500).map { 1 + Double($0 % 50) / 10 })
        report.rampSeconds = ramp
        return report
    }
}
