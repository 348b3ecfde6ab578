import ArbiterServe
import ArgumentParser
import CArbiterUDP
import Foundation
import NetProtocol

/// Defaults shared by the subcommands.
enum Defaults {
    /// "ARBITER" then version 1: the protocol id `arbiter serve` uses unless told otherwise.
    static let protocolID = ServeConfiguration.defaultProtocolID
    static let keyFileName = "transport.key"
}

/// Parses a key given as exactly 64 hex digits.
func parseKey(hex: String, option: String = "--key-hex") throws -> SymmetricKey {
    let trimmed = hex.trimmingCharacters(in: .whitespacesAndNewlines)
    guard trimmed.utf8.count == 64, let key = SymmetricKey(hex: trimmed) else {
        throw ValidationError("\(option) must be exactly 64 hexadecimal digits (a 32-byte key); got \(trimmed.utf8.count) characters")
    }
    return key
}

/// Parses a protocol id in decimal or 0x-prefixed hex.
func parseProtocolID(_ text: String) throws -> UInt64 {
    guard let value = ServeConfiguration.parseProtocolID(text) else { throw ValidationError("--protocol-id must be a 64-bit unsigned number, decimal or 0x-hex; got '\(text)'") }
    return value
}

/// Parses HOST:PORT, with a clear message.
func parseAddress(_ text: String, option: String) throws -> NetAddress {
    guard let address = NetAddress(text) else {
        throw ValidationError("\(option) must be IPv4 HOST:PORT or [IPv6]:PORT; got '\(text)'")
    }
    return address
}

/// Reads a key file: 64 hex digits (whitespace ignored).
func readKeyFile(_ path: String) throws -> SymmetricKey {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
        throw ValidationError("cannot read key file \(path)")
    }
    return try parseKey(hex: text, option: "key file \(path)")
}

/// Writes standard output line by line, so lines show up at once when piped.
func lineBufferedOutput() {
    arbiter_line_buffer_stdout()
}

/// Stops `signal` on SIGINT and SIGTERM.
func stopOnTermination(_ stop: StopFlag) {
    for signalNumber in [SIGINT, SIGTERM] {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { stop.signal.stop() }
        source.resume()
        stop.sources.append(source)
    }
}

import GameRuntime

/// Keeps the signal sources alive as long as the command runs.
final class StopFlag: @unchecked Sendable {
    let signal = StopSignal()
    var sources: [any DispatchSourceSignal] = []
}
