extension SwarmReport {
    /// `none`, or `kicked=1 timed_out=3` (by reason, in name order), for the text table.
    var disconnectsText: String {
        disconnectsByReason.isEmpty ? "none" : disconnectsByReason.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}

extension SwarmReport {
    /// What the server tick figures cover, in words (nil without any).
    var serverTickScopeText: String? {
        switch serverTickScope {
        case ServerTickFigures.Scope.window.rawValue where serverTickWindowSeconds.count == 2:
            String(
                format: "server tick figures (percentiles, phases, overruns) are over the run's window: %.1f s to %.1f s from the start, after the ramp",
                serverTickWindowSeconds[0], serverTickWindowSeconds[1])
        case ServerTickFigures.Scope.sinceServerStart.rawValue:
            "server tick figures (percentiles, phases, overruns) are the server's running totals since it started, not this run's: it publishes no tick histograms (an older server)"
        default: nil
        }
    }
}
