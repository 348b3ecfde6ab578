@testable import BotSwarm
import Foundation
import MatchContract
import Testing

/// The report's server tick figures: over the run's window and per second, from the difference
/// of readings of the server's cumulative histograms; the server's running figures from a
/// server without them, said so.
@Suite struct ServerTickLogTests {
    /// A reading of a server whose counts are `histogram` (each phase the same, a tenth as long).
    static func sample(_ histogram: DurationHistogram, overruns: UInt64 = 0, runningP99: Double = 99) -> ServerSample {
        var tick = Distribution([])
        tick.count = Int(histogram.count)
        tick.p99 = runningP99
        var sample = ServerSample(tick: tick)
        sample.overruns = overruns
        sample.tickHistogram = histogram
        var phase = DurationHistogram()
        for bucket in histogram.nonEmptyBuckets { phase.record(microseconds: bucket.lowerMicroseconds / 10, count: bucket.count) }
        sample.phaseHistograms = ["receive": phase, "simulate": phase, "snapshot_send": phase]
        sample.phasesP99Ms = ["receive": runningP99, "simulate": runningP99, "snapshot_send": runningP99]
        return sample
    }

    func close(_ value: Double, _ expected: Double) -> Bool { abs(value - expected) < 1e-9 }

    static func histogram(_ buckets: [(microseconds: UInt64, count: UInt64)]) -> DurationHistogram {
        var histogram = DurationHistogram()
        for bucket in buckets { histogram.record(microseconds: bucket.microseconds, count: bucket.count) }
        return histogram
    }

    @Test func theWindowsFiguresAreTheDifferenceOfItsTwoReadings() {
        // Given a server that had a slow start (50 passes of 40 ms before the window) …
        let before = Self.histogram([(40_000, 50), (1000, 200)])
        // … and ran 990 passes of 1 ms and 10 of 8 ms during it.
        let during = Self.histogram([(1000, 990), (8000, 10)])
        var log = ServerTickLog(window: 5...35)
        // When it is read at the window's two ends (and once before it, during the ramp) …
        log.add(Self.sample(Self.histogram([(40_000, 50)]), overruns: 3), at: .init(at: 4, onTheSecond: true))
        log.add(Self.sample(before, overruns: 7), at: .init(at: 5, onTheSecond: true))
        log.add(Self.sample(before + during, overruns: 9), at: .init(at: 35, onTheSecond: true))
        // … and once after it (the swarm's drain), which the window leaves out.
        log.add(Self.sample(before + during + Self.histogram([(60_000, 5)]), overruns: 12), at: .init(at: 36, onTheSecond: true))
        // Then the figures are those of the 1000 passes in between, to the upper bound of their bucket.
        let figures = log.figures
        #expect(figures.scope == .window)
        #expect(figures.window == 5...35)
        #expect(figures.tick.count == 1000)
        // 1000 µs is in [1000, 1004); 8000 µs in [8000, 8032).
        #expect(close(figures.tick.p50, 1.004) && close(figures.tick.p90, 1.004) && close(figures.tick.p99, 1.004))
        #expect(close(figures.tick.p999, 8.032) && close(figures.tick.max, 8.032))
        #expect(figures.overruns == 2)
        // Phases a tenth as long: 100 µs (one-microsecond buckets) and 800 µs.
        #expect(Set(figures.phasesP99Ms.keys) == ["receive", "simulate", "snapshot_send"])
        #expect(figures.phasesP99Ms.values.allSatisfy { close($0, 0.101) })
        #expect(figures.tick == Distribution(milliseconds: during))
    }

    @Test func eachSecondsPointIsThatSecondsOwnP99() {
        var log = ServerTickLog(window: 0.5...3.5)
        var counts = DurationHistogram()
        // Second 1: 100 passes of 2 ms; second 2: none; second 3: 100 of 500 µs, 2 of 12 ms.
        let seconds: [(at: Double, onTheSecond: Bool, adds: [(microseconds: UInt64, count: UInt64)])] = [
            (0.5, false, [(2000, 30)]), (1, true, [(2000, 70)]), (2, true, []), (3, true, [(500, 100), (12_000, 2)]),
            (3.5, false, [(500, 40)]), (4, true, [(500, 60)]),
        ]
        for second in seconds {
            for add in second.adds { counts.record(microseconds: add.microseconds, count: add.count) }
            log.add(Self.sample(counts, runningP99: 1234), at: .init(at: second.at, onTheSecond: second.onTheSecond))
        }
        // No point for second 1 (nothing a second before it), none for the empty second 2; the
        // window's own readings at 0.5 and 3.5 s are not points.
        // Second 3: the 101st of 102 is a 12 ms pass, in [11_968, 12_032); second 4: 100 of 500 µs, in [500, 502).
        #expect(log.tickOverTime.map { $0[0] } == [3, 4])
        #expect(close(log.tickOverTime[0][1], 12.032) && close(log.tickOverTime[1][1], 0.502))
        // The window: 0.5 to 3.5 s, everything but the first 30 and the last 60.
        let figures = log.figures
        #expect(figures.window == 0.5...3.5)
        #expect(figures.tick.count == 70 + 102 + 40)
    }

    @Test func aServerWithoutHistogramsGivesItsRunningFiguresAndSaysSo() {
        var log = ServerTickLog(window: 1...3)
        for (second, p99) in [(1.0, 2.5), (2, 3.0), (3, 3.25)] {
            var sample = Self.sample(DurationHistogram(), overruns: 4, runningP99: p99)
            sample.tickHistogram = nil
            sample.phaseHistograms = [:]
            log.add(sample, at: .init(at: second, onTheSecond: true))
        }
        let figures = log.figures
        #expect(figures.scope == .sinceServerStart)
        #expect(figures.window == nil)
        #expect(figures.tick.p99 == 3.25)
        #expect(figures.overruns == 4)
        #expect(figures.phasesP99Ms["receive"] == 3.25)
        #expect(log.tickOverTime == [[1, 2.5], [2, 3.0], [3, 3.25]])
        // And no reading at all: nothing to say.
        #expect(ServerTickLog(window: 1...3).figures.scope == .none)
    }

    @Test func aFailedReadingMovesTheWindowsEndInwardsAndARestartCountsFromIt() {
        var log = ServerTickLog(window: 2...4)
        // The reading at 2 s failed: the window starts at 3 s; the one at 4 s failed: it ends at 3.5 s.
        log.add(Self.sample(Self.histogram([(1000, 10)])), at: .init(at: 1, onTheSecond: true))
        log.add(Self.sample(Self.histogram([(1000, 50)]), overruns: 1), at: .init(at: 3, onTheSecond: true))
        // The server restarted: its counts start again.
        log.add(Self.sample(Self.histogram([(3000, 8)]), overruns: 0), at: .init(at: 3.5, onTheSecond: false))
        let figures = log.figures
        #expect(figures.window == 3...3.5)
        // 3000 µs is in [2992, 3008).
        #expect(figures.tick.count == 8 && close(figures.tick.p50, 3.008))
        #expect(figures.overruns == 0)
    }

    @Test func theSamplerReadsOnEverySecondAndAtTheWindowsEnds() {
        func instants(_ length: Double, _ window: ClosedRange<Double>?) -> [String] {
            StatsSampler.schedule(length: length, window: window).map { "\($0.at)\($0.onTheSecond ? "" : "*")" }
        }
        #expect(instants(5.5, 0.5...3.5) == ["0.5*", "1.0", "2.0", "3.0", "3.5*", "4.0", "5.0"])
        // Whole seconds serve as the window's ends.
        #expect(instants(37, 5...35) == (1...37).map { "\(Double($0))" })
        #expect(instants(3, 0...2) == ["0.0*", "1.0", "2.0", "3.0"])
        #expect(instants(2.5, nil) == ["1.0", "2.0"])
        #expect(StatsSampler.window(ramp: 5, duration: 30) == 5...35)
        #expect(StatsSampler.window(ramp: .nan, duration: 30) == nil)
        #expect(StatsSampler.window(ramp: 5, duration: -1) == nil)
    }

    @Test func theProbeReadsThePublishedBucketsAndRejectsMalformedOnes() throws {
        func parse(_ json: String) throws -> DurationHistogram? {
            StatsRouteProbe.histogram(try JSONSerialization.jsonObject(with: Data(json.utf8)))
        }
        let histogram = try #require(try parse(#"{"buckets": [[17, 3], [1000, 2]]}"#))
        #expect(histogram == Self.histogram([(17, 3), (1000, 2)]))
        #expect(try parse(#"{"buckets": []}"#)?.isEmpty == true)
        for malformed in [#"{"buckets": [[1, -2]]}"#, #"{"buckets": [[1]]}"#, #"{"buckets": "none"}"#, #"{"buckets": [["a", 1]]}"#, #"{}"#] {
            #expect(try parse(malformed) == nil, "\(malformed)")
        }
        #expect(StatsRouteProbe.histogram(nil) == nil)
    }

    @Test func theReportSaysWhatItsTickFiguresCover() {
        var report = ReportChartTests.report(ramp: 5, duration: 30)
        report.serverTickScope = "window"
        report.serverTickWindowSeconds = [5, 35]
        #expect(report.table.contains("server tick (window)"))
        #expect(report.table.contains("over the run's window: 5.0 s to 35.0 s from the start, after the ramp"))
        #expect(report.html.contains("Over the run's window (5.0 s to 35.0 s, after the ramp): p50"))
        #expect(report.tickChart?.series.first?.name == "server tick p99 of each second's passes")
        report.serverTickScope = "since_server_start"
        report.serverTickWindowSeconds = []
        #expect(report.table.contains("running totals since it started, not this run's"))
        #expect(report.html.contains("Since the server started, not over this run"))
        #expect(report.tickChart?.series.first?.name == "server tick p99 since the server started, read once a second")
        // The JSON keeps its keys, with the scope beside them.
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self)
        for key in ["server_tick_ms", "server_tick_overruns", "server_tick_phases_p99_ms", "tick_over_time", "server_tick_scope", "server_tick_window_seconds"] {
            #expect(json.contains("\"\(key)\""), "\(key)")
        }
    }
}
