import CArbiterRing

/// A set of CPUs as `--cpus` spells it: numbers and ranges, comma-separated (`1`, `0,2-3`).
public struct CPUList: Sendable, Equatable, CustomStringConvertible {
    public let cpus: [Int]
    private static let maskBytes = 128

    /// Nil unless `text` is such a list; `description` of the error is in ``parse(_:)``.
    public init?(_ text: String) {
        guard case .success(let list) = Self.parse(text) else { return nil }
        self = list
    }

    private init(cpus: [Int]) { self.cpus = cpus }

    /// The list, or a one-line reason it is not one (bad syntax, or a CPU this process may not
    /// run on).
    public static func parse(_ text: String) -> Result<CPUList, CPUListError> {
        var cpus = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]),
                low >= 0, low <= high, high < maskBytes * 8
            else { return .failure(CPUListError(text: text, reason: "'\(part)' is not a CPU number or range like 2-3")) }
            cpus.formUnion(low...high)
        }
        let allowed = allowedCPUs()
        if !allowed.isEmpty, let missing = cpus.sorted().first(where: { !allowed.contains($0) }) {
            return .failure(CPUListError(text: text, reason: "CPU \(missing) is not available to this process (it may use \(Self(cpus: allowed.sorted())))"))
        }
        return .success(CPUList(cpus: cpus.sorted()))
    }

    /// Ranges where they save digits: `0,2-3`.
    public var description: String {
        var parts: [String] = []
        var index = 0
        while index < cpus.count {
            var end = index
            while end + 1 < cpus.count && cpus[end + 1] == cpus[end] + 1 { end += 1 }
            parts.append(end == index ? "\(cpus[index])" : "\(cpus[index])-\(cpus[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// Pins the calling thread to these CPUs; the errno when the kernel refuses.
    func pinCurrentThread() -> Int32? {
        var mask = [UInt8](repeating: 0, count: Self.maskBytes)
        for cpu in cpus { mask[cpu / 8] |= UInt8(1 << (cpu % 8)) }
        let result = arbiter_pin_thread(mask, Int32(Self.maskBytes))
        return result == 0 ? nil : -result
    }

    private static func allowedCPUs() -> Set<Int> {
        var mask = [UInt8](repeating: 0, count: maskBytes)
        guard arbiter_allowed_cpus(&mask, Int32(maskBytes)) == 0 else { return [] }
        return Set((0..<(maskBytes * 8)).filter { mask[$0 / 8] & UInt8(1 << ($0 % 8)) != 0 })
    }
}

/// Why a `--cpus` list was refused; its description is the line `botswarm` prints.
public struct CPUListError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String { "--cpus '\(text)': \(reason)" }
}
