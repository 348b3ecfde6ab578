import Foundation

extension SwarmReport {
    /// From the run's start (the first bot connecting) to its end: the ramp and the play after it.
    public var runSeconds: Double { rampSeconds + durationSeconds }

    /// Whether the tick figures are the server's running ones (a server without histograms).
    var tickFiguresAreRunning: Bool { serverTickScope == ServerTickFigures.Scope.sinceServerStart.rawValue }

    /// Server tick p99 once a second, over the run: each second's own, or the server's running
    /// p99 from a server without histograms.
    public var tickChart: LineChart? {
        let points = tickOverTime.compactMap { $0.count > 1 ? (x: $0[0], y: $0[1]) : nil }
        guard !points.isEmpty else { return nil }
        let name = tickFiguresAreRunning ? "server tick p99 since the server started, read once a second" : "server tick p99 of each second's passes"
        var chart = LineChart(
            title: "Server tick duration over time", series: [LineSeries(name: name, colour: "#1f77b4", points: points)],
            end: runSeconds, unit: .milliseconds, yTitle: "tick duration (ms)")
        chart.shadedUntil = rampSeconds
        chart.shadedLabel = "ramp: bots joining"
        return chart
    }

    /// The server's bytes in and out per second, over the run.
    public var bandwidthChart: LineChart? {
        let rows = bandwidthOverTime.filter { $0.count > 2 }
        guard !rows.isEmpty else { return nil }
        let largest = rows.filter { $0[0] <= runSeconds }.flatMap { $0.dropFirst() }.max() ?? 0
        let unit = ChartUnit.byteRate(max: largest)
        var chart = LineChart(
            title: "Server bandwidth over time",
            series: [
                LineSeries(name: "in (bots to server)", colour: "#1f77b4", points: rows.map { ($0[0], $0[1]) }),
                LineSeries(name: "out (server to bots)", colour: "#d62728", points: rows.map { ($0[0], $0[2]) }),
            ],
            end: runSeconds, unit: unit, yTitle: "server total (\(unit.symbol))")
        chart.shadedUntil = rampSeconds
        chart.shadedLabel = "ramp: bots joining"
        return chart
    }

    /// Every bot's RTT, sampled once a second.
    public var rttHistogram: HistogramChart? {
        guard !rttSamplesMs.isEmpty else { return nil }
        return HistogramChart(
            title: "Client RTT distribution", name: "RTT samples", colour: "#2ca02c", values: rttSamplesMs, unit: .milliseconds,
            xTitle: "round-trip time (ms)")
    }

    /// The charts' SVGs, as the page shows them (charts without data are left out).
    public var chartSVGs: [String] { [tickChart?.svg, rttHistogram?.svg, bandwidthChart?.svg].compactMap { $0 } }

    /// A self-contained page: inline SVG charts at the page's full width, plain CSS, no scripts,
    /// opens offline.
    public var html: String {
        func section(_ title: String, _ svg: String?, _ caption: String) -> String {
            guard let svg else { return "<h2>\(escapeXML(title))</h2><p class=\"note\">No data.</p>" }
            return "<h2>\(escapeXML(title))</h2>\(svg)<p class=\"note\">\(escapeXML(caption))</p>"
        }
        let number = { (value: Double) in String(format: "%g", value) }
        let heading = "Arbiter bot swarm: \(bots) bots, \(mode == "transport" ? "transport only" : "\(playersPerGame) per game"), "
            + "\(number(rampSeconds)) s ramp + \(number(durationSeconds)) s"
        var tickCaption = tickFiguresAreRunning
            ? "The p99 of every tick the server has run since it started (a running figure: this server publishes no tick histograms), read once a second; "
            : "The p99 of each second's own tick passes (the difference of two readings of the server's histograms a second apart); "
        tickCaption += "the shaded stretch is the ramp, while bots join."
        if serverTickMs.count > 0 {
            let figures = "p50 \(ChartUnit.milliseconds.value(serverTickMs.p50)), p99 \(ChartUnit.milliseconds.value(serverTickMs.p99)), "
                + "max \(ChartUnit.milliseconds.value(serverTickMs.max)), overruns \(serverTickOverruns); a tick at 60 Hz has 16.7 ms."
            if serverTickScope == ServerTickFigures.Scope.window.rawValue, serverTickWindowSeconds.count == 2 {
                tickCaption += " Over the run's window (\(String(format: "%.1f", serverTickWindowSeconds[0])) s to "
                    + "\(String(format: "%.1f", serverTickWindowSeconds[1])) s, after the ramp): " + figures
            } else if tickFiguresAreRunning {
                tickCaption += " Since the server started, not over this run: " + figures
            }
        }
        let histogram = rttHistogram
        var rttCaption = "Each connected bot's round-trip time once a second; the bars cover p0 to p99.9."
        if let note = histogram?.tailNote {
            rttCaption += " " + note.prefix(1).uppercased() + note.dropFirst() + "."
        } else if let layout = histogram?.layout {
            rttCaption += " Every sample is shown (max \(ChartUnit.milliseconds.value(layout.max)))."
        }
        let bandwidthCaption = "All the server's traffic, summed over every client, per second. Per client: up "
            + ChartUnit.byteRate(max: bandwidthPerClientUpBytesPerSecond).scaledValue(bandwidthPerClientUpBytesPerSecond)
            + ", down " + ChartUnit.byteRate(max: bandwidthPerClientDownBytesPerSecond).scaledValue(bandwidthPerClientDownBytesPerSecond) + "."
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Arbiter bot swarm</title>
            <style>
            body{font-family:sans-serif;margin:1.5em 2em;color:#222;line-height:1.4}
            h1{font-size:1.5em;margin:0 0 .6em}h2{font-size:1.2em;margin:1.4em 0 .2em}
            svg.chart{display:block;width:100%;height:auto}
            pre{background:#f4f4f4;padding:.8em 1em;overflow-x:auto;font-size:.9em}
            p.note{color:#555;margin:.2em 0 0}
            </style></head><body>
            <h1>\(escapeXML(heading))</h1>
            <pre>\(escapeXML(table))</pre>
            \(section("Server tick duration over time", tickChart?.svg, tickCaption))
            \(section("Client RTT distribution", histogram?.svg, rttCaption))
            \(section("Server bandwidth over time", bandwidthChart?.svg, bandwidthCaption))
            </body></html>
            """
    }
}

extension ChartUnit {
    /// A raw value in this unit: `value(raw / divisor)`.
    func scaledValue(_ raw: Double) -> String { value(raw / divisor) }
}
