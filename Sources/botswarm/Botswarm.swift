import ArgumentParser
import BotSwarm
import Foundation
import GameRuntime
import NetProtocol

@main
struct Botswarm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botswarm",
        abstract: "Load-test an Arbiter server with bots that register, make games, join and play over UDP.",
        discussion: """
            Exit status is non-zero if any bot failed to join or any reliable message was lost. The network \
            options put a seeded conditioner on each bot's traffic (loopback only). With --transport-only the \
            bots skip the control port and the game: they send one payload per tick to an `arbiter echo` \
            server (tokens minted with its key), the yardstick for the game server's cost.
            """
    )

    @Option(help: "The control port, e.g. http://127.0.0.1:8080.")
    var control: String?

    @Option(help: "Number of bots.")
    var bots: Int

    @Option(name: .customLong("players-per-game"), help: "Bots per game.")
    var playersPerGame: Int = 16

    @Option(help: "Seconds of play after the ramp.")
    var duration: Double = 30

    @Option(help: "Seconds over which the bots connect.")
    var ramp: Double = 5

    @Option(help: "Chance a datagram is lost, 0...1.") var loss: Double = 0
    @Option(name: .customLong("latency-ms"), help: "One-way latency added.") var latencyMs: Double = 0
    @Option(name: .customLong("jitter-ms"), help: "Latency varies by up to this much.") var jitterMs: Double = 0
    @Option(help: "Chance a datagram is duplicated, 0...1.") var duplicate: Double = 0
    @Option(name: .customLong("chat-rate"), help: "Chat messages per bot per minute, in the game's channel over the WebSocket relay (and as many reliable messages in the match, echoed back).") var chatRate: Double = 6
    @Option(help: "Seed for names, inputs and the conditioner (default: fresh, printed).") var seed: UInt64?
    @Option(help: "Write the report as JSON here.") var report: String?
    @Option(help: "Write the report as a self-contained HTML page here.") var html: String?
    @Option(help: "Bot accounts file: created and reused, so password hashing is paid once.") var accounts: String?
    @Option(help: "Worker threads driving the bots.") var threads: Int = 2
    @Flag(help: "Light bots: only what the server needs of a client (the transport, the channels' acks and reliable echo, one input per tick, each snapshot's header); no entity decoding, prediction or interpolation, and they aim by script. Each worker thread drives its bots' sockets together through io_uring (plain syscalls when the kernel refuses it).") var light = false
    @Flag(name: .customLong("no-io-uring"), help: "Light bots: plain per-socket syscalls instead of io_uring (for comparison).") var noIOUring = false
    @Flag(name: .customLong("light-sdk"), help: .hidden) var lightSDK = false
    @Option(help: "Pin the bot worker threads to these CPUs, e.g. 1 or 0,2-3 (for instance the cores the server does not use).") var cpus: String?

    @Option(name: .customLong("transport-only"), help: "Transport-only run against an `arbiter echo` server at HOST:PORT (instead of --control).")
    var transportOnly: String?
    @Option(name: .customLong("key-hex"), help: "Transport-only: the echo server's private token key (64 hex digits).") var keyHex: String?
    @Option(name: .customLong("key-file"), help: "Transport-only: read the key from a file of 64 hex digits.") var keyFile: String?
    @Option(name: .customLong("protocol-id"), help: "Transport-only: the echo server's protocol id, decimal or 0x-hex.") var protocolID: String = "0x4152424954455201"
    @Option(name: .customLong("payload-bytes"), help: "Transport-only: bytes each bot sends per tick.") var payloadBytes: Int = 60
    @Option(name: .customLong("server-pid"), help: "Transport-only: the echo server's process id, to read its CPU time and memory from /proc.") var serverPID: Int32?

    @Option(help: "Hostile run: this many clients with valid tokens attack the game server at --game-server (tokens minted with --key-hex/--key-file, default arena), beside --bots honest players whose snapshot rate is measured.")
    var hostile: Int?
    @Option(name: .customLong("game-server"), help: "Hostile run: the game server's UDP address, HOST:PORT.") var gameServer: String?
    @Option(help: "Hostile run: hold-back (ids held back, reassemblies never finished), no-ack (echoes never acknowledged) or flood.")
    var attack: String = HostileAttack.holdBack.rawValue
    @Option(help: "Hostile run: the server's /metrics URL, to read what its connections held.") var metrics: String?

    func validate() throws {
        if hostile != nil {
            guard gameServer != nil, control == nil, transportOnly == nil else { throw ValidationError("--hostile goes with --game-server (not --control or --transport-only)") }
            guard let hostile, (1...10_000).contains(hostile) else { throw ValidationError("--hostile must be 1...10000") }
            guard HostileAttack(rawValue: attack) != nil else { throw ValidationError("--attack must be one of: \(HostileAttack.allCases.map(\.rawValue).joined(separator: ", "))") }
            return
        }
        guard (control == nil) != (transportOnly == nil) else { throw ValidationError("give exactly one of --control or --transport-only") }
        guard (1...10_000).contains(bots) else { throw ValidationError("--bots must be 1...10000") }
        guard (2...64).contains(playersPerGame) else { throw ValidationError("--players-per-game must be 2...64") }
        guard duration > 0, duration <= 3600, ramp >= 0, ramp <= 600 else { throw ValidationError("--duration must be in (0, 3600], --ramp in [0, 600]") }
        guard (0..<1).contains(loss), (0...1).contains(duplicate), latencyMs >= 0, jitterMs >= 0 else { throw ValidationError("bad network options") }
        guard (1...16).contains(threads) else { throw ValidationError("--threads must be 1...16") }
        if let cpus, case .failure(let error) = CPUList.parse(cpus) { throw ValidationError(error.description) }
        guard (1...Netcode.maxPayloadBytes).contains(payloadBytes) else { throw ValidationError("--payload-bytes must be 1...\(Netcode.maxPayloadBytes)") }
    }

    func run() async throws {
        let seed = self.seed ?? SystemClock().freshSeed()
        if let hostile, let gameServer {
            guard let server = NetAddress(gameServer) else { throw ValidationError("--game-server must be HOST:PORT; got '\(gameServer)'") }
            let (key, id) = try keyAndProtocolID()
            FileHandle.standardError.write(Data("botswarm: hostile seed=\(seed) hostiles=\(hostile) attack=\(attack) honest=\(bots) duration=\(duration)s\n".utf8))
            var options = HostileSwarmOptions(server: server, key: key, protocolID: id, hostiles: hostile, honest: bots, seed: seed)
            options.attack = HostileAttack(rawValue: attack) ?? .holdBack
            options.duration = duration
            options.threads = threads
            options.serverPID = serverPID
            options.metricsURL = metrics
            let result = try await runHostileSwarm(options)
            print(result.table)
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            if let report, let data = try? encoder.encode(result), !FileManager.default.createFile(atPath: report, contents: data) {
                FileHandle.standardError.write(Data("botswarm: cannot write \(report)\n".utf8))
            }
            print("botswarm: hostile=\(result.hostiles) disconnected=\(result.hostilesDisconnected) honest_connected=\(result.honestConnectedThroughout)/\(result.honest) honest_snapshots_per_second_min=\(String(format: "%.1f", result.honestSnapshotsPerSecondMin))")
            if result.honestConnectedThroughout < result.honest { throw ExitCode(1) }
            return
        }
        let result: SwarmReport
        if let transportOnly {
            result = try await runTransport(address: transportOnly, seed: seed)
        } else {
            FileHandle.standardError.write(Data("botswarm: seed=\(seed) bots=\(bots) players_per_game=\(playersPerGame) duration=\(duration)s ramp=\(ramp)s\(light ? " light" : "")\n".utf8))
            var options = SwarmOptions(control: control ?? "", bots: bots, seed: seed)
            options.playersPerGame = playersPerGame
            options.duration = duration
            options.ramp = ramp
            options.conditions = LinkConditions(latency: latencyMs / 1000, jitter: jitterMs / 1000, loss: loss, duplicate: duplicate)
            options.chatRate = chatRate
            options.accounts = accounts
            options.threads = threads
            options.light = light
            options.ioUring = !noIOUring
            options.sdkLight = lightSDK
            options.cpus = cpus.flatMap { CPUList(parsing: $0) }
            do {
                result = try await runSwarm(options)
            } catch {
                FileHandle.standardError.write(Data("botswarm: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        print(result.table)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let report, let data = try? encoder.encode(result), !FileManager.default.createFile(atPath: report, contents: data) {
            FileHandle.standardError.write(Data("botswarm: cannot write \(report)\n".utf8))
        }
        if let html, !FileManager.default.createFile(atPath: html, contents: Data(result.html.utf8)) {
            FileHandle.standardError.write(Data("botswarm: cannot write \(html)\n".utf8))
        }
        print("botswarm: connected=\(result.connected) failed_joins=\(result.failedJoins) reliable_lost=\(result.reliableLost) tick_p99_ms=\(String(format: "%.2f", result.serverTickMs.p99))")
        if result.failedJoins > 0 || result.reliableLost > 0 { throw ExitCode(1) }
    }

    private func runTransport(address: String, seed: UInt64) async throws -> SwarmReport {
        guard let server = NetAddress(address) else { throw ValidationError("--transport-only must be HOST:PORT or [IPv6]:PORT; got '\(address)'") }
        let (key, id) = try keyAndProtocolID()
        FileHandle.standardError.write(Data("botswarm: transport-only seed=\(seed) bots=\(bots) server=\(server) payload=\(payloadBytes)B duration=\(duration)s ramp=\(ramp)s\n".utf8))
        var options = TransportSwarmOptions(server: server, key: key, protocolID: id, bots: bots, seed: seed)
        options.duration = duration
        options.ramp = ramp
        options.payloadBytes = payloadBytes
        options.threads = threads
        options.serverPID = serverPID
        return try await runTransportSwarm(options)
    }

    /// The server's token key (--key-hex or --key-file) and --protocol-id.
    private func keyAndProtocolID() throws -> (SymmetricKey, UInt64) {
        let hex: String
        switch (keyHex, keyFile) {
        case (let text?, nil): hex = text
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("cannot read --key-file \(path)")
            }
            hex = text
        default: throw ValidationError("--transport-only and --hostile need exactly one of --key-hex or --key-file")
        }
        let trimmed = hex.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let key = SymmetricKey(hex: trimmed) else {
            let option = keyHex != nil ? "--key-hex" : "--key-file \(keyFile ?? "")"
            let problem = trimmed.enumerated().first { !$0.element.isHexDigit }.map { "character \($0.offset + 1) is '\($0.element)'" }
                ?? "got \(trimmed.count) digits"
            throw ValidationError("\(option) must be 64 hexadecimal digits (a 32-byte key); \(problem)")
        }
        let id: UInt64? = protocolID.lowercased().hasPrefix("0x") ? UInt64(protocolID.dropFirst(2), radix: 16) : UInt64(protocolID)
        guard let id else { throw ValidationError("--protocol-id must be decimal or 0x-hex") }
        return (key, id)
    }
}
