import CArbiterUDP

/// A list of CPUs as `taskset` and `/sys` write them (`0`, `0,2-3`): where a game worker or a
/// bot thread may run.
public struct CPUList: Sendable, Equatable, CustomStringConvertible {
    public let cpus: [Int]

    public init(_ cpus: [Int]) { self.cpus = cpus }

    /// Parses `0,2-3`; nil for anything else (empty items, reversed ranges, non-numbers).
    public init?(parsing text: String) {
        guard case .success(let list) = Self.parse(text, allowedOnly: false) else { return nil }
        self = list
    }

    /// The list, or a one-line reason it is not one: bad syntax, or (with `allowedOnly`) a CPU
    /// this process may not run on.
    public static func parse(_ text: String, allowedOnly: Bool = true) -> Result<CPUList, CPUListError> {
        var cpus: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]),
                  low >= 0, low <= high, high < 4096
            else { return .failure(CPUListError(text: text, reason: "'\(item)' is not a CPU number or range like 2-3")) }
            for cpu in low...high where !cpus.contains(cpu) { cpus.append(cpu) }
        }
        let list = CPUList(cpus.sorted())
        if allowedOnly, let missing = list.notAllowed().first {
            return .failure(CPUListError(text: text, reason: "CPU \(missing) is not available to this process (it may use \(allowed()))"))
        }
        return .success(list)
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

    /// The CPUs this process may run on (its affinity mask, as a container or `taskset` set it).
    public static func allowed() -> CPUList {
        var cpus = [Int32](repeating: 0, count: 4096)
        let count = Int(arbiter_allowed_cpus(&cpus, Int32(cpus.count)))
        guard count > 0 else { return CPUList([0]) }
        return CPUList(cpus.prefix(min(count, cpus.count)).map(Int.init))
    }

    /// The CPUs of this list the process may not use (a pin to them would fail).
    public func notAllowed() -> [Int] {
        let allowed = Self.allowed().cpus
        return cpus.filter { !allowed.contains($0) }
    }

    /// Pins the calling thread to these CPUs; the errno on failure.
    @discardableResult
    public func pinCurrentThread() -> Int32 {
        let raw = cpus.map(Int32.init)
        return -arbiter_pin_current_thread(raw, Int32(raw.count))
    }
}

/// Why a `--cpus` list was refused; its description is the line the command prints.
public struct CPUListError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String { "--cpus '\(text)': \(reason)" }
}

/// Names the calling thread as `top -H`, `perf` and `/proc/PID/task/*/comm` show it (15 bytes
/// at most are kept): how tools find the game workers' threads and their CPU time.
public func nameCurrentThread(_ name: String) {
    _ = arbiter_name_current_thread(name)
}
