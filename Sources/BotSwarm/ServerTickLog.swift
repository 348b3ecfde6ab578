import MatchContract

/// The report's figures for the server's ticks, made from readings of its stats over the run.
/// Pure: the sampler adds each reading at the time it scheduled it; tests add made-up ones.
///
/// The server publishes cumulative histograms (every tick pass since it started, and each
/// phase), so the difference of two readings is exactly the passes in between:
/// - the report's tick percentiles, phase p99s and overruns are over the run's `window` (the
///   play after the ramp): the difference of the first reading at or after its start and the
///   last one at or before its end;
/// - each point of ``tickOverTime`` is that second's own p99: the difference of the reading on
///   that second and the one a second before (a second without a pass has no point).
///
/// A server that publishes no histograms (older than them) gives only its running figures
/// since it started; the figures are then those of its last reading, and ``ServerTickFigures/scope``
/// says so. The server refreshes its stats every half second, so each end of the window, and
/// of each second, is the server's state up to half a second before the reading.
struct ServerTickLog: Sendable {
    /// When a reading is taken, in seconds from the run's start.
    struct Instant: Sendable, Equatable {
        var at: Double
        /// A whole second: a point of the per-second series (the window's own ends are not).
        var onTheSecond: Bool
    }

    /// The server's counts at one reading.
    struct Reading: Sendable {
        var at: Double
        var tick: DurationHistogram
        var phases: [String: DurationHistogram]
        var overruns: UInt64
    }

    /// How close to a window's end a reading counts as at it (s).
    static let tolerance = 1e-3

    /// Seconds from the run's start.
    let window: ClosedRange<Double>
    private(set) var start: Reading?
    private(set) var end: Reading?
    private var previousSecond: Reading?
    /// The last reading with tick figures: the fallback for a server without histograms.
    private var latest: ServerSample?
    /// [seconds from the run's start, tick p99 in ms], a point per second.
    private(set) var tickOverTime: [[Double]] = []

    init(window: ClosedRange<Double>) { self.window = window }

    mutating func add(_ sample: ServerSample, at instant: Instant) {
        guard let tick = sample.tick else { return }
        latest = sample
        guard let histogram = sample.tickHistogram else {
            // An older server: its running p99 is all there is.
            if instant.onTheSecond { tickOverTime.append([instant.at, tick.p99]) }
            return
        }
        let reading = Reading(at: instant.at, tick: histogram, phases: sample.phaseHistograms, overruns: sample.overruns)
        if instant.onTheSecond {
            if let previous = previousSecond {
                let second = Self.difference(histogram, previous.tick)
                if !second.isEmpty { tickOverTime.append([instant.at, second.percentileSeconds(0.99) * 1000]) }
            }
            previousSecond = reading
        }
        if start == nil, instant.at >= window.lowerBound - Self.tolerance { start = reading }
        if let start, instant.at >= start.at, instant.at <= window.upperBound + Self.tolerance { end = reading }
    }

    /// What the report shows: over the window when two readings bound it, else the server's
    /// running figures.
    var figures: ServerTickFigures {
        if let start, let end, end.at > start.at {
            let ticks = Self.difference(end.tick, start.tick)
            var phases: [String: Double] = [:]
            for (name, later) in end.phases {
                guard let earlier = start.phases[name] else { continue }
                phases[name] = Self.difference(later, earlier).percentileSeconds(0.99) * 1000
            }
            // Counts that went down mean the server restarted in between: what it counted since.
            let overruns = end.overruns >= start.overruns ? end.overruns - start.overruns : end.overruns
            return ServerTickFigures(
                tick: Distribution(milliseconds: ticks), overruns: overruns, phasesP99Ms: phases, scope: .window, window: start.at...end.at)
        }
        guard let latest, let tick = latest.tick else { return ServerTickFigures(tick: Distribution([]), overruns: 0, phasesP99Ms: [:], scope: .none, window: nil) }
        return ServerTickFigures(tick: tick, overruns: latest.overruns, phasesP99Ms: latest.phasesP99Ms, scope: .sinceServerStart, window: nil)
    }

    /// `later - earlier`, or `later` alone when the server restarted in between (its counts are
    /// then all from after `earlier`).
    static func difference(_ later: DurationHistogram, _ earlier: DurationHistogram) -> DurationHistogram {
        later.includes(earlier) ? later - earlier : later
    }
}

/// The server's tick figures as the report gives them.
struct ServerTickFigures: Sendable, Equatable {
    /// What the figures cover (the report's `server_tick_scope`).
    enum Scope: String, Sendable {
        /// The run's window: the difference of two readings of the server's histograms.
        case window
        /// The server's running figures since it started (it publishes no histograms).
        case sinceServerStart = "since_server_start"
        /// No reading of the server's ticks (no stats route, or it never answered).
        case none
    }

    /// Tick pass durations in ms; `count` is the passes.
    var tick: Distribution
    var overruns: UInt64
    var phasesP99Ms: [String: Double]
    var scope: Scope
    /// The readings the window figures are the difference of, in seconds from the run's start.
    var window: ClosedRange<Double>?
}
