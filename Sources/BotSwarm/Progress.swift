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
        guard !quiet, value == total || value % max(1, total / 50) == 0 else { return }
        let filled = value * 30 / max(1, total)
        FileHandle.standardError.write(Data("\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] \(value)/\(total)".utf8))
    }

    func finish() { if !quiet { FileHandle.standardError.write(Data("\n".utf8)) } }
}
