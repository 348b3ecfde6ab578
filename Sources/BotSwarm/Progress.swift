import Foundation
import Synchronization

/// A progress bar on standard error (silent when `quiet`).
final class Progress: Sendable {
    let total: Int
    let label: String
    let quiet: Bool
    private let done = Mutex(0)

    init(total: Int, label: String, quiet: Bool) {
        self.total = total
        self.label = label
        self.quiet = quiet
    }

    func advance() {
        let value = done.withLock { value -> Int in
            value += 1
            return value
        }
        // A bar redrawn 50 times on a terminal; four lines elsewhere.
        let steps = StatusLine.onTerminal ? 50 : 4
        guard !quiet, value == total || value % max(1, total / steps) == 0 else { return }
        let filled = value * 30 / max(1, total)
        StatusLine.write("\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] \(value)/\(total)")
    }

    func finish() { if !quiet { StatusLine.finish() } }
}
