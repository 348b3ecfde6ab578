import Foundation

/// Percentiles of a sample set.
struct Distribution: Codable {
    var count: Int
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double

    init(_ values: [Double]) {
        let sorted = values.sorted()
        count = sorted.count
        func at(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.down)))]
        }
        p50 = at(0.5)
        p90 = at(0.9)
        p99 = at(0.99)
        p999 = at(0.999)
        max = sorted.last ?? 0
    }

    func scaled(_ factor: Double) -> Distribution {
        var copy = self
        copy.p50 *= factor
        copy.p90 *= factor
        copy.p99 *= factor
        copy.p999 *= factor
        copy.max *= factor
        return copy
    }
}

/// The run's report: printed as a table, saved as JSON and as an HTML page with SVG charts.
struct SwarmReport: Codable {
    var bots: Int
    var playersPerGame: Int
    var durationSeconds: Double
    var seed: UInt64
    var conditions: [String: Double]
    var connected: Int
    var failedJoins: Int
    var disconnectsByReason: [String: Int]
    var serverTickMs: Distribution
    var serverTickOverruns: UInt64
    var clientRttMs: Distribution
    var snapshotInterArrivalMs: Distribution
    var inputAckLatencyMs: Distribution
    var predictionCorrectionUnits: Distribution
    var interpolationDelayMs: Distribution
    var reliableSent: Int
    var reliableDelivered: Int
    var chatSent: Int
    var chatReceived: Int
    var bandwidthPerClientUpBytesPerSecond: Double
    var bandwidthPerClientDownBytesPerSecond: Double
    var serverCpuSeconds: Double
    var serverPeakMemoryBytes: UInt64
    var leaderboardQueries: Int
    var tickOverTime: [[Double]]
    var bandwidthOverTime: [[Double]]
    var rttSamplesMs: [Double]

    var table: String {
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
        func column(_ text: String) -> String { String(repeating: " ", count: max(0, 10 - text.count)) + text }
        func row(_ name: String, _ d: Distribution, _ unit: String) -> String {
            pad(name, 28) + [d.p50, d.p90, d.p99, d.p999, d.max].map { column(String(format: "%.2f", $0)) }.joined() + "  " + unit
        }
        var lines = [
            pad("", 28) + ["p50", "p90", "p99", "p99.9", "max"].map(column).joined(),
            row("server tick", serverTickMs, "ms"),
            row("client RTT", clientRttMs, "ms"),
            row("snapshot inter-arrival", snapshotInterArrivalMs, "ms"),
            row("input to acknowledgement", inputAckLatencyMs, "ms"),
            row("prediction correction", predictionCorrectionUnits, "units"),
            row("interpolation delay", interpolationDelayMs, "ms"),
        ]
        lines.append("bots connected \(connected)/\(bots), failed joins \(failedJoins), disconnects \(disconnectsByReason), tick overruns \(serverTickOverruns)")
        lines.append("reliable messages sent \(reliableSent) delivered \(reliableDelivered); chat sent \(chatSent), deliveries to channel members \(chatReceived); leaderboard queries \(leaderboardQueries)")
        lines.append(String(format: "bandwidth per client: up %.0f B/s, down %.0f B/s; server CPU %.1f s, peak memory %.1f MB",
                            bandwidthPerClientUpBytesPerSecond, bandwidthPerClientDownBytesPerSecond, serverCpuSeconds, Double(serverPeakMemoryBytes) / 1_048_576))
        return lines.joined(separator: "\n")
    }

    /// A self-contained page: inline SVG line charts and a histogram, no scripts, opens offline.
    var html: String {
        func line(_ points: [[Double]], title: String, unit: String) -> String {
            guard points.count > 1 else { return "<p>\(title): no data</p>" }
            let width = 640.0, height = 200.0
            let xs = points.map { $0[0] }, ys = points.flatMap { $0.dropFirst() }
            let maxX = max(xs.max() ?? 1, 1e-9), maxY = max(ys.max() ?? 1, 1e-9)
            var paths = ""
            let colours = ["#1f77b4", "#d62728"]
            for series in 1..<(points.first?.count ?? 2) {
                let d = points.map { String(format: "%.1f,%.1f", $0[0] / maxX * width, height - $0[series] / maxY * height) }.joined(separator: " ")
                paths += "<polyline fill=\"none\" stroke=\"\(colours[(series - 1) % 2])\" stroke-width=\"1.5\" points=\"\(d)\"/>"
            }
            return """
                <h2>\(title)</h2><svg width="\(Int(width) + 60)" height="\(Int(height) + 30)" xmlns="http://www.w3.org/2000/svg">\
                <g transform="translate(50,5)"><rect width="\(Int(width))" height="\(Int(height))" fill="#fafafa" stroke="#ccc"/>\(paths)\
                <text x="-45" y="10" font-size="10">\(String(format: "%.2f", maxY)) \(unit)</text><text x="-45" y="\(Int(height))" font-size="10">0</text>\
                <text x="\(Int(width) - 40)" y="\(Int(height) + 20)" font-size="10">\(String(format: "%.0f", maxX)) s</text></g></svg>
                """
        }
        func histogram(_ values: [Double], title: String, unit: String) -> String {
            guard let top = values.max(), top > 0 else { return "<p>\(title): no data</p>" }
            let bins = 30
            var counts = [Int](repeating: 0, count: bins)
            for value in values { counts[min(bins - 1, Int(value / top * Double(bins)))] += 1 }
            let tallest = Double(counts.max() ?? 1)
            let bars = counts.enumerated().map { index, count in
                let h = Double(count) / tallest * 180
                return String(format: "<rect x=\"%d\" y=\"%.1f\" width=\"18\" height=\"%.1f\" fill=\"#2ca02c\"/>", index * 20, 180 - h, h)
            }.joined()
            return "<h2>\(title)</h2><svg width=\"660\" height=\"210\" xmlns=\"http://www.w3.org/2000/svg\"><g transform=\"translate(30,5)\">\(bars)<text x=\"0\" y=\"200\" font-size=\"10\">0</text><text x=\"560\" y=\"200\" font-size=\"10\">\(String(format: "%.1f", top)) \(unit)</text></g></svg>"
        }
        let escaped = table.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>Arbiter bot swarm</title>
            <style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em}</style></head><body>
            <h1>Arbiter bot swarm: \(bots) bots, \(playersPerGame) per game, \(Int(durationSeconds)) s</h1>
            <pre>\(escaped)</pre>
            \(line(tickOverTime, title: "Server tick duration over time (p99 per second)", unit: "ms"))
            \(histogram(rttSamplesMs, title: "Client RTT distribution", unit: "ms"))
            \(line(bandwidthOverTime, title: "Server bandwidth over time (blue in, red out)", unit: "B/s"))
            </body></html>
            """
    }
}
