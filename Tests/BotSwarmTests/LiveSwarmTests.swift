@testable import BotSwarm
import Foundation
import GameRuntime
import NetProtocol
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Short swarm runs against the real `arbiter` executable (built next to the tests), on
/// loopback with port 0: what `botswarm` does, end to end.
@Suite(.serialized) struct LiveSwarmTests {
    @Test func botsJoinPlayAndLeaveCleanlyAndMetricsParse() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-swarm-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try ArbiterProcess.launch([
            "serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", data, "--password-cost", "minimum", "--seconds", "120",
        ])
        defer { server.terminate() }
        let ready = try #require(await server.line { $0.hasPrefix("serve: ready") })
        let control = try #require(ready.split(separator: " ").first { $0.hasPrefix("http=") }.map { String($0.dropFirst(5)) })

        var options = SwarmOptions(control: control, bots: 4, seed: 42)
        options.playersPerGame = 2
        options.duration = 3
        options.ramp = 0.5
        options.chatRate = 30
        options.quiet = true
        options.light = false
        options.accounts = data + "/accounts.json"
        let report = try await runSwarm(options)

        #expect(report.connected == 4)
        #expect(report.failedJoins == 0)
        #expect(report.disconnectsByReason.isEmpty, "\(report.disconnectsByReason)")
        #expect(report.reliableSent > 0 && report.reliableLost == 0)
        #expect(report.leaderboardQueries == 4)
        // Every bot played: snapshots kept arriving and inputs were acknowledged.
        #expect(report.snapshotInterArrivalMs.count > 4 * 60)
        #expect(report.inputAckLatencyMs.count > 4 * 60)
        #expect(report.serverTickMs.count > 0)
        // Over the play after the ramp: the readings at 0.5 s and 3.5 s.
        #expect(report.serverTickScope == "window")
        #expect(report.serverTickWindowSeconds == [0.5, 3.5])
        #expect(Set(report.serverTickPhasesP99Ms.keys) == ["receive", "simulate", "snapshot_send"])
        #expect(report.table.contains("server tick"))
        #expect(report.html.contains("<svg"))
        // The server saw all four leave by their own disconnect (not a timeout).
        var left: [String] = []
        while left.count < 4, let line = await server.line({ $0.contains("player left") }) { left.append(line) }
        #expect(left.count == 4)
        #expect(left.allSatisfy { $0.contains("reason=peer_disconnected") }, "\(left)")

        // /metrics from the live server parses as Prometheus text, with the tick histograms.
        let (body, response) = try await URLSession.shared.data(from: try #require(URL(string: control + "/metrics")))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let metrics = try PrometheusText(try #require(String(data: body, encoding: .utf8)))
        #expect(metrics.types["arbiter_tick_duration_seconds"] == "histogram")
        #expect(metrics.types["arbiter_tick_phase_duration_seconds"] == "histogram")
        for phase in ["receive", "simulate", "snapshot_send"] {
            #expect((metrics.values("arbiter_tick_phase_duration_seconds_count", where: ["phase": phase]).first ?? 0) > 0)
        }
        #expect((metrics.values("arbiter_tick_duration_seconds_count").first ?? 0) > 0)
        #expect((metrics.values("arbiter_datagrams_total", where: ["direction": "in"]).first ?? 0) > 0)
        #expect(metrics.types["arbiter_tick_overruns_total"] == "counter")
        // Bounded labels: no per-player or per-match dimensions anywhere.
        let labelNames = Set(metrics.samples.flatMap(\.labels.keys))
        #expect(labelNames.isSubset(of: [
            "direction", "reason", "quantile", "phase", "le", "result", "error_type", "fault", "worker",
            "http_request_method", "http_route", "http_response_status_code",
        ]), "\(labelNames)")
        // Routes are reported by their pattern, never with an id in the path.
        let routes = Set(metrics.samples.compactMap { $0.labels["http_route"] })
        #expect(!routes.isEmpty)
        #expect(routes.allSatisfy { route in !route.split(separator: "/").contains { $0.allSatisfy(\.isNumber) } }, "\(routes)")
    }

    @Test func transportOnlyBotsAreEchoed() async throws {
        var random = SystemRandomSource()
        let key = SymmetricKey(random: &random)
        let server = try ArbiterProcess.launch([
            "echo", "--udp", "127.0.0.1:0", "--key-hex", Hex.encode(key.bytes), "--protocol-id", "0x1234", "--seconds", "60", "--reply-bytes", "200",
        ])
        defer { server.terminate() }
        let ready = try #require(await server.line { $0.hasPrefix("echo: ready") })
        let address = try #require(ready.split(separator: " ").first { $0.hasPrefix("udp=") }.flatMap { NetAddress(String($0.dropFirst(4))) })
        var options = TransportSwarmOptions(server: address, key: key, protocolID: 0x1234, bots: 3, seed: 5)
        options.duration = 2
        options.ramp = 0.2
        options.serverPID = server.pid
        options.quiet = true
        let report = try await runTransportSwarm(options)
        #expect(report.connected == 3)
        #expect(report.payloadsSent > 3 * 60)
        // Loopback loses nothing but what is still in flight when the bots stop.
        #expect(report.payloadsEchoed >= report.payloadsSent - 3 * 10)
        #expect(report.bandwidthPerClientDownBytesPerSecond > 0)
        #expect(report.serverCpuSeconds > 0)
        var left = 0
        while left < 3, let line = await server.line({ $0.contains("disconnected") }) {
            #expect(line.contains("reason=peer_disconnected"))
            left += 1
        }
        #expect(left == 3)
    }
}

/// The `arbiter` executable as a child process, its output read line by line.
///
/// `@unchecked Sendable`: one test task reads the lines at a time (each read takes a fresh
/// iterator over the same stream, which continues where the last one stopped).
final class ArbiterProcess: @unchecked Sendable {
    let process: Process
    private let lines: AsyncStream<String>

    var pid: Int32 { process.processIdentifier }

    static func launch(_ arguments: [String]) throws -> ArbiterProcess {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("arbiter")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else { throw Missing(path: executable.path) }
        return try ArbiterProcess(executable: executable, arguments: arguments)
    }

    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "no arbiter executable at \(path): run `swift build --build-tests` first" }
    }

    private init(executable: URL, arguments: [String]) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let (stream, continuation) = AsyncStream<String>.makeStream()
        lines = stream
        let pending = Mutex("")
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let complete = pending.withLock { buffer -> [String] in
                buffer += String(decoding: data, as: UTF8.self)
                var parts = buffer.components(separatedBy: "\n")
                buffer = parts.removeLast()
                return parts
            }
            for line in complete { continuation.yield(line) }
        }
        try process.run()
        // A bound on every wait: the process is stopped (ending the stream) after 120 s.
        let process = self.process
        Task.detached {
            try? await Task.sleep(for: .seconds(120))
            if process.isRunning { process.terminate() }
        }
    }

    /// The next output line that satisfies `matches`; nil when the output ends first.
    func line(_ matches: @Sendable (String) -> Bool) async -> String? {
        var iterator = lines.makeAsyncIterator()
        while let line = await iterator.next() {
            if matches(line) { return line }
        }
        return nil
    }

    func terminate() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
