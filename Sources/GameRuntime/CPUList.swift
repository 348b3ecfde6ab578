import CArbiterUDP

/// A list of CPUs as `taskset` and `/sys` write them (`0`, `0,2-3`): where a game worker or a
/// bot thread may run.
public struct CPUList: Sendable, Equatable, CustomStringConvertible {
    public let cpus: [Int]

    public init(_ cpus: [Int]) { self.cpus = cpus }

    /// Parses `0,2-3`; nil for anything else (empty items, reversed ranges, non-numbers).
    public init?(parsing text: String) {
        var cpus: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]),
                  low >= 0, low <= high, high < 4096
            else { return nil }
            for cpu in low...high where !cpus.contains(cpu) { cpus.append(cpu) }
        }
        guard !cpus.isEmpty else { return nil }
        self.cpus = cpus
    }

    public var description: String { cpus.map(String.init).joined(separator: ",") }

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

/// Names the calling thread as `top -H`, `perf` and `/proc/PID/task/*/comm` show it (15 bytes
/// at most are kept): how tools find the game workers' threads and their CPU time.
public func nameCurrentThread(_ name: String) {
    _ = arbiter_name_current_thread(name)
}
