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

/// Parses a key given as exactly 64 hex digits; a refusal says what is wrong with the text
/// (its length, or the first character that is not a hex digit, counted from 1).
func parseKey(hex: String, option: String = "--key-hex") throws -> SymmetricKey {
    let trimmed = hex.trimmingCharacters(in: .whitespacesAndNewlines)
    if let key = SymmetricKey(hex: trimmed) { return key }
    throw ValidationError("\(option) must be 64 hexadecimal digits (a 32-byte key); \(keyTextProblem(trimmed))")
}

/// Why `text` is not 64 hex digits, in words: "character 17 is 'g'" or "got 3 characters".
func keyTextProblem(_ text: String) -> String {
    if let (position, character) = text.enumerated().first(where: { !$0.element.isHexDigit }) {
        let shown = character.unicodeScalars.allSatisfy { $0.properties.isWhitespace || $0.value < 0x20 }
            ? "U+" + String(character.unicodeScalars.first?.value ?? 0, radix: 16, uppercase: true) : String(character)
        return "character \(position + 1) is '\(shown)'"
    }
    return text.isEmpty ? "got nothing" : "got \(text.count) digits"
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
    guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read key file \(path)") }
    guard let text = String(data: data, encoding: .utf8) else {
        throw ValidationError("key file \(path) must hold 64 hexadecimal digits (a 32-byte key); it is not text")
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

/// A command that could not do its job: `command: message` on standard error, then exit status 1.
/// (ArgumentParser prints nothing more for an `ExitCode`.)
func failure(_ command: String, _ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("\(command): \(message)\n".utf8))
    return ExitCode(1)
}

/// A connect token file, read and checked before any packet is sent: a refusal names what is
/// wrong in words (not a token at all, or expired).
enum TokenFile {
    enum Problem: Error, Equatable {
        case unreadable
        case notAToken(String)
        /// Expired this many seconds ago by the wall clock.
        case expired(secondsAgo: UInt64)

        /// The state the summary line reports for it.
        var state: ClientState { isExpired ? .tokenExpired : .invalidToken }
        var isExpired: Bool { if case .expired = self { true } else { false } }
    }

    /// Reads and parses `path`; checks the expiry against `nowUnix` (the wall clock, in the driver).
    static func load(_ path: String, nowUnix: UInt64) -> Result<ConnectToken, Problem> {
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(.unreadable) }
        let token: ConnectToken
        do {
            token = try ConnectToken(decoding: Array(data))
        } catch {
            return .failure(.notAToken(describe(error, bytes: data.count)))
        }
        if token.expireTimestamp <= nowUnix { return .failure(.expired(secondsAgo: nowUnix - token.expireTimestamp)) }
        return .success(token)
    }

    /// The one line a command prints for `problem` with the token at `path`.
    static func message(_ problem: Problem, path: String) -> String {
        let name = (path as NSString).lastPathComponent
        switch problem {
        case .unreadable: return "cannot read the token file \(path)"
        case .notAToken(let why): return "\(name) is not a connect token (\(why))"
        case .expired(let secondsAgo):
            return "the connect token in \(name) expired \(duration(secondsAgo)) ago (tokens last `arbiter token --expire-seconds`, or the server's --token-expiry when joined through the control port; mint a new one)"
        }
    }

    static func describe(_ error: ConnectTokenError, bytes: Int) -> String {
        switch error {
        case .wrongLength(let count) where count == bytes:
            "\(bytes) bytes; a connect token is \(Netcode.connectTokenBytes) bytes"
        case .wrongLength: "it is cut short"
        case .wrongVersion: "it does not start with the netcode 1.02 version string"
        case .wrongProtocolID: "its protocol id is not this server's"
        case .invalidAddressCount(let count): "it names \(count) server addresses; a token holds 1 to \(Netcode.maxServersPerConnect)"
        case .invalidAddress: "a server address in it is malformed"
        case .invalidKey: "its keys are malformed"
        case .userDataTooLong(let count): "\(count) bytes of user data; at most \(Netcode.userDataBytes)"
        case .expiryBeforeCreation: "it expires before it was created"
        case .decryptionFailed: "it does not decrypt"
        }
    }

    /// "42 s", "5 min", "3 h", "12 days".
    static func duration(_ seconds: UInt64) -> String {
        switch seconds {
        case ..<120: "\(seconds) s"
        case ..<7_200: "\(seconds / 60) min"
        case ..<172_800: "\(seconds / 3_600) h"
        default: "\(seconds / 86_400) days"
        }
    }
}
