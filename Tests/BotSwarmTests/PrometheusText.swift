import Foundation

/// A strict parser of the Prometheus text exposition format (0.0.4): comments, HELP and TYPE
/// lines, samples with escaped label values, and the histogram rules (cumulative buckets, a
/// `+Inf` bucket equal to `_count`). Throws on anything a Prometheus server would refuse.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct ParseError: Error, CustomStringConvertible {
        let line: Int
        let reason: String
        var description: String { "line \(line): \(reason)" }
    }

    private(set) var types: [String: String] = [:]
    private(set) var samples: [Sample] = []

    init(_ text: String) throws {
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                if parts.count >= 3, parts[1] == "TYPE" {
                    guard parts.count == 4, Self.isName(parts[2]),
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3])
                    else { throw ParseError(line: number + 1, reason: "bad TYPE line") }
                    guard types[parts[2]] == nil else { throw ParseError(line: number + 1, reason: "second TYPE for \(parts[2])") }
                    types[parts[2]] = parts[3]
                } else if parts.count >= 3, parts[1] == "HELP" {
                    guard Self.isName(parts[2]) else { throw ParseError(line: number + 1, reason: "bad HELP line") }
                }
                continue
            }
            samples.append(try Self.sample(line, number: number + 1))
        }
        try checkHistograms()
    }

    func values(_ name: String, where labels: [String: String] = [:]) -> [Double] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }.map(\.value)
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || first == ":" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || $0 == ":" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    private static func sample(_ line: String, number: Int) throws -> Sample {
        let scalars = Array(line.unicodeScalars)
        var index = 0
        var name = ""
        while index < scalars.count, scalars[index] != "{", scalars[index] != " " {
            name.unicodeScalars.append(scalars[index])
            index += 1
        }
        guard isName(name) else { throw ParseError(line: number, reason: "bad metric name '\(name)'") }
        var labels: [String: String] = [:]
        if index < scalars.count, scalars[index] == "{" {
            index += 1
            while index < scalars.count, scalars[index] != "}" {
                var key = ""
                while index < scalars.count, scalars[index] != "=" {
                    key.unicodeScalars.append(scalars[index])
                    index += 1
                }
                guard isName(key), !key.hasPrefix("__"), index + 1 < scalars.count, scalars[index + 1] == "\"" else {
                    throw ParseError(line: number, reason: "bad label name '\(key)'")
                }
                index += 2
                var value = ""
                while index < scalars.count, scalars[index] != "\"" {
                    if scalars[index] == "\\" {
                        guard index + 1 < scalars.count else { throw ParseError(line: number, reason: "dangling escape") }
                        switch scalars[index + 1] {
                        case "\\": value += "\\"
                        case "\"": value += "\""
                        case "n": value += "\n"
                        default: throw ParseError(line: number, reason: "bad escape")
                        }
                        index += 2
                    } else {
                        value.unicodeScalars.append(scalars[index])
                        index += 1
                    }
                }
                guard index < scalars.count else { throw ParseError(line: number, reason: "unterminated label value") }
                index += 1
                guard labels.updateValue(value, forKey: key) == nil else { throw ParseError(line: number, reason: "repeated label \(key)") }
                if index < scalars.count, scalars[index] == "," { index += 1 }
            }
            guard index < scalars.count else { throw ParseError(line: number, reason: "unterminated labels") }
            index += 1
        }
        let rest = String(String.UnicodeScalarView(scalars[index...])).split(separator: " ").map(String.init)
        guard (1...2).contains(rest.count) else { throw ParseError(line: number, reason: "expected a value (and a timestamp)") }
        let value: Double
        switch rest[0] {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let parsed = Double(rest[0]) else { throw ParseError(line: number, reason: "bad value '\(rest[0])'") }
            value = parsed
        }
        if rest.count == 2, Int64(rest[1]) == nil { throw ParseError(line: number, reason: "bad timestamp") }
        return Sample(name: name, labels: labels, value: value)
    }

    private func checkHistograms() throws {
        for (family, type) in types where type == "histogram" {
            var series: [[String: String]: [(Double, Double)]] = [:]
            for sample in samples where sample.name == family + "_bucket" {
                guard let le = sample.labels["le"], let bound = le == "+Inf" ? Double.infinity : Double(le) else {
                    throw ParseError(line: 0, reason: "\(family) bucket without a numeric le")
                }
                var key = sample.labels
                key["le"] = nil
                series[key, default: []].append((bound, sample.value))
            }
            for (labels, buckets) in series {
                let sorted = buckets.sorted { $0.0 < $1.0 }
                guard sorted.last?.0 == .infinity else { throw ParseError(line: 0, reason: "\(family)\(labels) has no +Inf bucket") }
                for (a, b) in zip(sorted, sorted.dropFirst()) where b.1 < a.1 {
                    throw ParseError(line: 0, reason: "\(family)\(labels) buckets are not cumulative")
                }
                let count = samples.first { $0.name == family + "_count" && $0.labels == labels }?.value
                guard count == sorted.last?.1 else { throw ParseError(line: 0, reason: "\(family)\(labels) _count differs from the +Inf bucket") }
                guard samples.contains(where: { $0.name == family + "_sum" && $0.labels == labels }) else {
                    throw ParseError(line: 0, reason: "\(family)\(labels) has no _sum")
                }
            }
        }
    }
}
