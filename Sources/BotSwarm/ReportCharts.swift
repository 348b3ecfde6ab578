import Foundation

/// One chart axis: its domain and the values that get a gridline and a label, at a
/// 1, 2 or 5 × 10^n step (what a person reads values from).
public struct Axis: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var step: Double
    public var ticks: [Double]

    /// The 1, 2 or 5 × 10^n step at or just above `span / target`.
    public static func niceStep(span: Double, target: Int) -> Double {
        guard span.isFinite, span > 0, target > 0 else { return 1 }
        let rough = span / Double(target)
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let fraction = rough / magnitude
        let nice: Double = fraction <= 1 + 1e-9 ? 1 : fraction <= 2 + 1e-9 ? 2 : fraction <= 5 + 1e-9 ? 5 : 10
        return nice * magnitude
    }

    /// The 1, 2 or 5 × 10^n step nearest `span / target` (on a log scale): for a range rounded
    /// out to whole steps, where a step far above the rough one would add empty space.
    public static func nearestNiceStep(span: Double, target: Int) -> Double {
        guard span.isFinite, span > 0, target > 0 else { return 1 }
        let rough = span / Double(target)
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.min { abs(log($0 / rough)) < abs(log($1 / rough)) } ?? magnitude
    }

    /// Every multiple of `step` from `lower` to `upper`, both included when they are multiples.
    static func multiples(of step: Double, from lower: Double, to upper: Double) -> [Double] {
        guard step > 0, lower.isFinite, upper.isFinite, upper >= lower else { return [] }
        let first = (lower / step - 1e-9).rounded(.up), last = (upper / step + 1e-9).rounded(.down)
        guard last >= first, last - first <= 1000 else { return [] }
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    /// A value axis from 0 with headroom: its top is the first step at or above `max` × 1.1, so
    /// the largest value never sits on the border.
    public static func values(max: Double, target: Int = 8) -> Axis {
        let top = max.isFinite && max > 0 ? max * 1.1 : 1
        let step = niceStep(span: top, target: target)
        let upper = (top / step - 1e-9).rounded(.up) * step
        return Axis(lower: 0, upper: upper, step: step, ticks: multiples(of: step, from: 0, to: upper))
    }

    /// `lower`…`upper` rounded out to whole steps (a histogram's value axis).
    public static func range(from lower: Double, to upper: Double, target: Int = 10) -> Axis {
        var low = lower.isFinite ? lower : 0, high = upper.isFinite ? upper : low
        if !(high > low) {
            let pad = Swift.max(abs(low) * 0.1, 0.001)
            high = low + pad
            low = Swift.max(low - pad, Swift.min(low, 0))
        }
        let step = nearestNiceStep(span: high - low, target: target)
        let first = (low / step + 1e-9).rounded(.down) * step
        var last = (high / step - 1e-9).rounded(.up) * step
        if last <= first { last = first + step }
        return Axis(lower: first, upper: last, step: step, ticks: multiples(of: step, from: first, to: last))
    }

    /// Time from 0 to exactly `end`: ticks at a nice step inside; `end` gets its own tick when
    /// the last one is at least half a step short of it.
    public static func time(end: Double, target: Int = 10) -> Axis {
        let upper = end.isFinite && end > 0 ? end : 1
        let step = niceStep(span: upper, target: target)
        var ticks = multiples(of: step, from: 0, to: upper)
        if let last = ticks.last, upper - last >= step / 2 { ticks.append(upper) }
        return Axis(lower: 0, upper: upper, step: step, ticks: ticks)
    }

    /// Where `value` falls, 0 at `lower` to 1 at `upper`.
    func fraction(_ value: Double) -> Double { upper > lower ? (value - lower) / (upper - lower) : 0 }
}

/// A chart's unit: its symbol and what raw values are divided by (bytes to KiB, say).
public struct ChartUnit: Sendable, Equatable {
    public var symbol: String
    public var divisor: Double

    public static let milliseconds = ChartUnit(symbol: "ms", divisor: 1)
    public static let seconds = ChartUnit(symbol: "s", divisor: 1)
    public static let percent = ChartUnit(symbol: "%", divisor: 1)

    /// B/s, KiB/s or MiB/s: whichever keeps `max` under 1024 of it.
    public static func byteRate(max: Double) -> ChartUnit {
        if max >= 1024 * 1024 { return ChartUnit(symbol: "MiB/s", divisor: 1024 * 1024) }
        if max >= 1024 { return ChartUnit(symbol: "KiB/s", divisor: 1024) }
        return ChartUnit(symbol: "B/s", divisor: 1)
    }

    /// A tick label: as many decimals as the step needs, and the unit.
    public func label(_ value: Double, step: Double) -> String {
        let decimals = step > 0 ? Swift.min(6, Swift.max(0, Int((-log10(step) - 1e-9).rounded(.up)))) : 0
        if abs(value) < step * 1e-6 { return "0 \(symbol)" }
        return String(format: "%.\(decimals)f", value) + " \(symbol)"
    }

    /// A single value (a legend entry, a note): three significant digits or so.
    public func value(_ value: Double) -> String {
        let magnitude = abs(value)
        let decimals = magnitude >= 100 || magnitude == 0 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
        return String(format: "%.\(decimals)f", value) + " \(symbol)"
    }
}

/// How a legend entry is drawn.
enum LegendMark: Sendable { case line, bar, dashed }

/// The frame every chart shares: gridlines, labelled ticks on both axes, axis titles and the
/// legend; the caller's marks go inside the plot area.
struct ChartFrame {
    static let width = 1100.0, height = 360.0
    static let left = 100.0, right = 36.0, top = 44.0, bottom = 56.0
    static var plotWidth: Double { width - left - right }
    static var plotHeight: Double { height - top - bottom }

    var x: Axis
    var y: Axis
    var xLabel: (Double) -> String
    var yLabel: (Double) -> String
    var xTitle: String
    var yTitle: String
    var legend: [(name: String, colour: String, mark: LegendMark)]
    /// Top right, above the plot: what the plot leaves out.
    var note: String?

    func px(_ value: Double) -> Double { x.fraction(value) * Self.plotWidth }
    func py(_ value: Double) -> Double { Self.plotHeight - y.fraction(value) * Self.plotHeight }

    func svg(title: String, marks: String, underlay: String = "") -> String {
        let w = Self.plotWidth, h = Self.plotHeight
        var out = """
            <svg class="chart" viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" width="100%" role="img" aria-label="\(escapeXML(title))" \
            xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="14" fill="#333">\
            <g transform="translate(\(Int(Self.left)),\(Int(Self.top)))">\
            <rect width="\(svgNumber(w))" height="\(svgNumber(h))" fill="#fcfcfc"/>\(underlay)
            """
        for tick in y.ticks {
            let at = py(tick)
            out += "<line x1=\"0\" x2=\"\(svgNumber(w))\" y1=\"\(svgNumber(at))\" y2=\"\(svgNumber(at))\" stroke=\"#e2e2e2\"/>"
            out += "<text class=\"tick-y\" x=\"-8\" y=\"\(svgNumber(at))\" dy=\"0.35em\" text-anchor=\"end\">\(escapeXML(yLabel(tick)))</text>"
        }
        for tick in x.ticks {
            let at = px(tick)
            out += "<line x1=\"\(svgNumber(at))\" x2=\"\(svgNumber(at))\" y1=\"0\" y2=\"\(svgNumber(h))\" stroke=\"#e2e2e2\"/>"
            out += "<line x1=\"\(svgNumber(at))\" x2=\"\(svgNumber(at))\" y1=\"\(svgNumber(h))\" y2=\"\(svgNumber(h + 5))\" stroke=\"#888\"/>"
            out += "<text class=\"tick-x\" x=\"\(svgNumber(at))\" y=\"\(svgNumber(h + 21))\" text-anchor=\"middle\">\(escapeXML(xLabel(tick)))</text>"
        }
        out += marks
        out += "<rect width=\"\(svgNumber(w))\" height=\"\(svgNumber(h))\" fill=\"none\" stroke=\"#999\"/>"
        out += "<text class=\"axis-title\" x=\"\(svgNumber(w / 2))\" y=\"\(svgNumber(h + 46))\" text-anchor=\"middle\" fill=\"#555\">\(escapeXML(xTitle))</text>"
        out += "<text class=\"axis-title\" transform=\"translate(\(svgNumber(-Self.left + 18)),\(svgNumber(h / 2))) rotate(-90)\" text-anchor=\"middle\" fill=\"#555\">\(escapeXML(yTitle))</text>"
        var legendX = 0.0
        for entry in legend {
            switch entry.mark {
            case .line: out += "<line x1=\"\(svgNumber(legendX))\" x2=\"\(svgNumber(legendX + 22))\" y1=\"-18\" y2=\"-18\" stroke=\"\(entry.colour)\" stroke-width=\"3\"/>"
            case .dashed: out += "<line x1=\"\(svgNumber(legendX))\" x2=\"\(svgNumber(legendX + 22))\" y1=\"-18\" y2=\"-18\" stroke=\"\(entry.colour)\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>"
            case .bar: out += "<rect x=\"\(svgNumber(legendX + 4))\" y=\"-25\" width=\"14\" height=\"14\" fill=\"\(entry.colour)\"/>"
            }
            out += "<text class=\"legend\" x=\"\(svgNumber(legendX + 28))\" y=\"-18\" dy=\"0.35em\">\(escapeXML(entry.name))</text>"
            legendX += 28 + Double(entry.name.count) * 7.6 + 26
        }
        if let note { out += "<text class=\"note\" x=\"\(svgNumber(w))\" y=\"-18\" dy=\"0.35em\" text-anchor=\"end\" fill=\"#a33\">\(escapeXML(note))</text>" }
        return out + "</g></svg>"
    }
}

/// One line of a line chart.
public struct LineSeries: Sendable {
    public var name: String
    public var colour: String
    public var points: [(x: Double, y: Double)]

    public init(name: String, colour: String, points: [(x: Double, y: Double)]) {
        self.name = name
        self.colour = colour
        self.points = points
    }
}

/// Values over the run: x in seconds from the run's start to its end, y from 0 with headroom.
public struct LineChart: Sendable {
    public var title: String
    public var series: [LineSeries]
    /// The run's duration: the x-axis ends here, and later samples are not drawn.
    public var end: Double
    /// The unit of the raw values (its divisor applies before the axis is chosen).
    public var unit: ChartUnit
    public var yTitle: String
    /// A shaded stretch from 0 (the ramp), with its label.
    public var shadedUntil: Double?
    public var shadedLabel = ""

    public init(title: String, series: [LineSeries], end: Double, unit: ChartUnit, yTitle: String) {
        self.title = title
        self.series = series
        self.end = end
        self.unit = unit
        self.yTitle = yTitle
    }

    /// Each series' points inside the run, in the axis unit.
    public var visibleSeries: [LineSeries] {
        series.map { line in
            var copy = line
            copy.points = line.points.filter { $0.x >= 0 && $0.x <= end + 1e-9 && $0.y.isFinite }.map { ($0.x, $0.y / unit.divisor) }
            return copy
        }
    }

    public var xAxis: Axis { Axis.time(end: end) }
    public var yAxis: Axis { Axis.values(max: visibleSeries.flatMap { $0.points.map(\.y) }.max() ?? 0) }

    public var svg: String {
        let shown = visibleSeries
        let x = xAxis, y = yAxis
        let frame = ChartFrame(
            x: x, y: y,
            xLabel: { [step = x.step] value in
                // The run's end gets its own digits when it is not on the step.
                abs((value / step).rounded() - value / step) < 1e-6 ? ChartUnit.seconds.label(value, step: step) : String(format: "%g s", value)
            },
            yLabel: { [unit, step = y.step] in unit.label($0, step: step) },
            xTitle: "time since the run's start (s)", yTitle: yTitle,
            legend: shown.map { ($0.name, $0.colour, .line) })
        var underlay = ""
        if let until = shadedUntil, until > 0 {
            let right = frame.px(Swift.min(until, end))
            underlay = "<rect class=\"shaded\" width=\"\(svgNumber(right))\" height=\"\(svgNumber(ChartFrame.plotHeight))\" fill=\"#eef2f7\"/>"
                + "<text x=\"\(svgNumber(right / 2))\" y=\"18\" text-anchor=\"middle\" fill=\"#778\" font-size=\"13\">\(escapeXML(shadedLabel))</text>"
        }
        var marks = ""
        for line in shown where !line.points.isEmpty {
            let points = line.points.map { "\(svgNumber(frame.px($0.x))),\(svgNumber(frame.py($0.y)))" }.joined(separator: " ")
            marks += "<polyline fill=\"none\" stroke=\"\(line.colour)\" stroke-width=\"2.5\" stroke-linejoin=\"round\" points=\"\(points)\"/>"
            for point in line.points {
                marks += "<circle cx=\"\(svgNumber(frame.px(point.x)))\" cy=\"\(svgNumber(frame.py(point.y)))\" r=\"3.5\" fill=\"\(line.colour)\">"
                    + "<title>\(escapeXML(line.name)) at \(String(format: "%.1f", point.x)) s: \(escapeXML(unit.value(point.y)))</title></circle>"
            }
        }
        return frame.svg(title: title, marks: marks, underlay: underlay)
    }
}

/// A distribution as bars over p0 to p99.9 (rounded out to whole ticks): the body of the
/// distribution fills the chart, and the tail beyond is counted in a note.
public struct HistogramChart: Sendable {
    public var title: String
    public var name: String
    public var colour: String
    public var values: [Double]
    public var unit: ChartUnit
    public var xTitle: String

    public init(title: String, name: String, colour: String, values: [Double], unit: ChartUnit, xTitle: String) {
        self.title = title
        self.name = name
        self.colour = colour
        self.values = values
        self.unit = unit
        self.xTitle = xTitle
    }

    public struct Layout: Sendable, Equatable {
        public var axis: Axis
        public var binWidth: Double
        public var counts: [Int]
        public var total: Int
        /// Samples above the axis (past p99.9, rounded out), and the largest of all.
        public var above: Int
        public var max: Double
        public var p50: Double
        public var p99: Double
        public var p999: Double
    }

    /// Nil without finite samples.
    public var layout: Layout? {
        let sorted = values.filter(\.isFinite).sorted()
        guard let first = sorted.first, let last = sorted.last else { return nil }
        func rank(_ q: Double) -> Double { sorted[Swift.min(sorted.count - 1, Swift.max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))] }
        let p999 = rank(0.999)
        let axis = Axis.range(from: first, to: p999)
        // Bins that divide a tick step, about 40 of them.
        let span = axis.upper - axis.lower
        let binWidth = [1.0, 2, 5, 10, 20].map { axis.step / $0 }.min { abs(span / $0 - 40) < abs(span / $1 - 40) } ?? axis.step
        let binCount = Swift.max(1, Int((span / binWidth).rounded()))
        var counts = [Int](repeating: 0, count: binCount)
        var above = 0
        for value in sorted {
            if value > axis.upper + binWidth * 1e-9 { above += 1; continue }
            counts[Swift.min(binCount - 1, Swift.max(0, Int(((value - axis.lower) / binWidth).rounded(.down))))] += 1
        }
        return Layout(axis: axis, binWidth: binWidth, counts: counts, total: sorted.count, above: above, max: last, p50: rank(0.5), p99: rank(0.99), p999: p999)
    }

    /// What the bars leave out, in words; nil when nothing is.
    public var tailNote: String? {
        guard let layout, layout.above > 0 else { return nil }
        let upper = unit.label(layout.axis.upper, step: layout.axis.step)
        return "\(layout.above) sample\(layout.above == 1 ? "" : "s") above \(upper), max \(unit.value(layout.max)), not shown"
    }

    public var svg: String {
        guard let layout else { return "" }
        let shares = layout.counts.map { Double($0) / Double(Swift.max(1, layout.total)) * 100 }
        let y = Axis.values(max: shares.max() ?? 0)
        let x = layout.axis
        let frame = ChartFrame(
            x: x, y: y,
            xLabel: { [unit, step = x.step] in unit.label($0, step: step) },
            yLabel: { [step = y.step] in ChartUnit.percent.label($0, step: step) },
            xTitle: xTitle + ", bins of " + unit.label(layout.binWidth, step: layout.binWidth),
            yTitle: "share of samples",
            legend: [
                ("\(name) (n = \(layout.total))", colour, .bar),
                ("p50 " + unit.value(layout.p50), "#333", .dashed),
                ("p99 " + unit.value(layout.p99), "#c0392b", .dashed),
            ],
            note: tailNote)
        var marks = ""
        let barWidth = frame.px(x.lower + layout.binWidth)
        for (index, share) in shares.enumerated() where share > 0 {
            let from = x.lower + Double(index) * layout.binWidth
            let top = frame.py(share)
            marks += "<rect x=\"\(svgNumber(frame.px(from) + (barWidth > 4 ? 0.5 : 0)))\" y=\"\(svgNumber(top))\" width=\"\(svgNumber(Swift.max(1, barWidth - (barWidth > 4 ? 1 : 0))))\" "
                + "height=\"\(svgNumber(ChartFrame.plotHeight - top))\" fill=\"\(colour)\"><title>"
                + "\(escapeXML(unit.label(from, step: layout.binWidth))) to \(escapeXML(unit.label(from + layout.binWidth, step: layout.binWidth))): "
                + "\(layout.counts[index]) samples (\(String(format: "%.1f", share)) %)</title></rect>"
        }
        for (value, colour) in [(layout.p50, "#333"), (layout.p99, "#c0392b")] where value <= x.upper {
            let at = frame.px(value)
            marks += "<line x1=\"\(svgNumber(at))\" x2=\"\(svgNumber(at))\" y1=\"0\" y2=\"\(svgNumber(ChartFrame.plotHeight))\" stroke=\"\(colour)\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>"
        }
        return frame.svg(title: title, marks: marks)
    }
}

/// A coordinate, to a tenth of a unit.
func svgNumber(_ value: Double) -> String { String(format: "%.1f", value) }

func escapeXML(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
