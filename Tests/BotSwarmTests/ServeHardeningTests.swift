import Foundation
import Testing

/// `arbiter serve` as an attacker or a careless operator meets it: TLS below 1.2 is refused,
/// and a control port on a non-loopback address without TLS is warned about.
@Suite(.serialized) struct ServeHardeningTests {
    /// Runs a command to its end; its combined output and exit status.
    func run(_ path: String, _ arguments: [String], input: String = "") throws -> (output: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        let stdin = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = stdin
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: data, as: UTF8.self), process.terminationStatus)
    }

    @Test func tlsBelowOnePointTwoIsRefused() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem", "-days", "1",
            "-subj", "/CN=localhost",
        ])
        #expect(made.status == 0, "\(made.output)")
        let server = try ArbiterProcess.launch([
            "serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", folder + "/data", "--password-cost", "minimum",
            "--tls-cert", folder + "/cert.pem", "--tls-key", folder + "/key.pem", "--seconds", "60",
        ])
        defer { server.terminate() }
        let ready = try #require(await server.line { $0.hasPrefix("serve: ready") })
        let url = try #require(ready.split(separator: " ").first { $0.hasPrefix("http=https://") }.map { String($0.dropFirst("http=https://".count)) })
        // The client is told to allow the old versions (SECLEVEL=0), so only the server can refuse.
        let old = try run("/usr/bin/openssl", ["s_client", "-connect", url, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        #expect(old.output.contains("alert protocol version"), "\(old.output.suffix(400))")
        #expect(!old.output.contains("Cipher is ECDHE"))
        let current = try run("/usr/bin/openssl", ["s_client", "-connect", url, "-tls1_2"])
        #expect(current.output.contains("Protocol  : TLSv1.2"), "\(current.output.suffix(400))")
    }

    @Test func aPlainControlPortBeyondLoopbackIsWarnedAbout() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-warn-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try ArbiterProcess.launch([
            "serve", "--udp", "127.0.0.1:0", "--http", "0.0.0.0:0", "--data-dir", folder, "--password-cost", "minimum", "--seconds", "60",
        ])
        defer { server.terminate() }
        let warning = await server.line { $0.contains("without TLS") || $0.hasPrefix("serve: ready") }
        #expect(warning?.contains("warning") == true, "\(warning ?? "no output")")
    }
}
