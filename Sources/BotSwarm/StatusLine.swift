import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The swarm's live lines on standard error: rewritten in place (`\r`) on a terminal; whole
/// lines, and fewer of them, anywhere else (a log file, CI), where a `\r` would pile every
/// update onto one unreadable line.
enum StatusLine {
    static let onTerminal = isatty(2) == 1

    static func write(_ text: String) {
        FileHandle.standardError.write(Data((onTerminal ? "\r" + text : text + "\n").utf8))
    }

    /// Ends the line being rewritten (nothing to end off a terminal).
    static func finish() {
        if onTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
