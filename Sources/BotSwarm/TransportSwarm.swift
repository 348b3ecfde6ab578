import Foundation
import GameRuntime
import NetProtocol
import Synchronization

/// What a transport-only run is told: the same bots and rate, straight to an `arbiter echo`
/// server (tokens minted here with its key), to set the game server's cost beside the cost of
/// the datagrams alone.
public struct TransportSwarmOptions: Sendable {
    public var server: NetAddress
    public var key: SymmetricKey
    public var protocolID: UInt64
    public var bots: Int
    public var duration = 30.0
    public var ramp = 5.0
    public var tickRate = 60.0
    /// Bytes each bot sends per tick (an input message's size in the game).
    public var payloadBytes = 60
    public var threads = 2
    public var seed: UInt64
    /// The echo server's process, for its CPU time and memory (/proc).
    public var serverPID: Int32?
    public var quiet = false

    public init(server: NetAddress, key: SymmetricKey, protocolID: UInt64, bots: Int, seed: UInt64) {
        self.server = server
        self.key = key
        self.protocolID = protocolID
        self.bots = bots
        self.seed = seed
    }
}

/// Transport-only bots: connect, send one payload per tick, count the echoes.
final class TransportSwarm: @unchecked Sendable, BotPopulation {
    final class Bot {
        let index: Int
        let token: ConnectToken
        var client: TransportClient?
        var everConnected = false
        var failed = false
        var finalState = ClientState.disconnected
        var sent = 0
        var echoed = 0
        var echoedBytes = 0

        init(index: Int, token: ConnectToken) {
            self.index = index
            self.token = token
        }
    }

    let bots: [Bot]
    let options: TransportSwarmOptions
    private let connected = Atomic<Int>(0)
    private let errors = Atomic<Int>(0)

    init(options: TransportSwarmOptions) throws {
        self.options = options
        var random = SeededRandomSource(seed: options.seed)
        let now = SystemClock().unixSeconds()
        bots = try (0..<options.bots).map { index in
            let token = try ConnectToken.generate(
                publicAddresses: [options.server], expireSeconds: Int64(options.ramp + 120), timeoutSeconds: 10,
                clientID: options.seed &+ UInt64(index) &+ 1, protocolID: options.protocolID, privateKey: options.key, userData: [],
                nowUnix: now, random: &random)
            return Bot(index: index, token: token)
        }
    }

    var connectedCount: Int { connected.load(ordering: .relaxed) }
    var errorCount: Int { errors.load(ordering: .relaxed) }
    func liveRoundTripTimes() -> [Double] { [] }

    func run() -> Task<Void, Never> {
        let clock = SystemClock()
        let start = clock.monotonicSeconds()
        let end = start + options.ramp + options.duration
        let threads = options.threads
        return onWorkerThreads(threads, name: "botswarm-transport") { [self] worker in
            drive(bots.filter { $0.index % threads == worker }, start: start, end: end)
        }
    }

    private func drive(_ bots: [Bot], start: Double, end: Double) {
        let clock = SystemClock()
        let payload = [UInt8](repeating: 0x5A, count: max(1, min(Netcode.maxPayloadBytes, options.payloadBytes)))
        var pacer = TickPacer(rate: options.tickRate, start: start)
        while clock.monotonicSeconds() < end {
            let now = clock.monotonicSeconds()
            for bot in bots {
                if bot.client == nil, now >= start + options.ramp * Double(bot.index) / Double(max(1, self.bots.count)) {
                    bot.client = try? TransportClient(bind: NetAddress(ipv4: 127, 0, 0, 1, port: 0))
                    bot.client?.connect(token: bot.token)
                }
                guard let client = bot.client else { continue }
                client.poll(until: 0) { bytes in
                    bot.echoed += 1
                    bot.echoedBytes += bytes.count
                }
                if client.state == .connected {
                    if !bot.everConnected {
                        bot.everConnected = true
                        connected.add(1, ordering: .relaxed)
                    }
                    if client.send(payload) { bot.sent += 1 }
                } else if bot.everConnected && !bot.failed {
                    bot.failed = true
                    bot.finalState = client.state
                    errors.add(1, ordering: .relaxed)
                }
            }
            pacer.waitForNextTick()
        }
        for bot in bots {
            guard let client = bot.client else { continue }
            client.poll(until: 0) { bytes in
                bot.echoed += 1
                bot.echoedBytes += bytes.count
            }
            if !bot.failed { bot.finalState = client.state }
            client.disconnect()
        }
    }
}

/// A transport-only run: the report has the bot counts, the echoes, and the echo server's CPU
/// per player and memory (with `serverPID`).
public func runTransportSwarm(_ options: TransportSwarmOptions) async throws -> SwarmReport {
    let swarm = try TransportSwarm(options: options)
    let probe: any ServerProbe = ProcessProbe(pid: options.serverPID ?? 0) { swarm.connectedCount }
    let sampler = StatsSampler(probe: probe)
    if options.serverPID != nil { await sampler.takeBaseline() }
    let start = Date()
    let play = swarm.run()
    if options.serverPID != nil {
        await sampler.run(from: start, until: start.addingTimeInterval(options.ramp + options.duration), bots: swarm, total: options.bots, failedJoins: 0, quiet: options.quiet)
    }
    await play.value
    let connected = swarm.bots.filter(\.everConnected).count
    var reasons: [String: Int] = [:]
    for bot in swarm.bots where bot.everConnected && bot.finalState != .connected { reasons[bot.finalState.description, default: 0] += 1 }
    let stats = sampler.collected
    var report = SwarmReport(
        bots: options.bots, playersPerGame: 0, durationSeconds: options.duration, seed: options.seed, conditions: [:],
        connected: connected, failedJoins: options.bots - connected, disconnectsByReason: reasons,
        serverTickMs: Distribution([]), serverTickOverruns: 0, clientRttMs: Distribution([]), snapshotInterArrivalMs: Distribution([]),
        inputAckLatencyMs: Distribution([]), predictionCorrectionUnits: Distribution([]), interpolationDelayMs: Distribution([]),
        reliableSent: 0, reliableDelivered: 0, chatSent: 0, chatReceived: 0,
        bandwidthPerClientUpBytesPerSecond: Double(options.payloadBytes) * options.tickRate,
        bandwidthPerClientDownBytesPerSecond: Double(swarm.bots.map(\.echoedBytes).reduce(0, +)) / Double(max(1, connected)) / max(1e-9, options.ramp + options.duration),
        serverCpuSeconds: stats.cpuSeconds, serverPeakMemoryBytes: stats.peakMemory, leaderboardQueries: 0,
        tickOverTime: [], bandwidthOverTime: [], rttSamplesMs: [])
    report.mode = "transport"
    report.rampSeconds = options.ramp
    report.payloadsSent = swarm.bots.map(\.sent).reduce(0, +)
    report.payloadsEchoed = swarm.bots.map(\.echoed).reduce(0, +)
    report.fillServerCosts(sampler: sampler, ramp: options.ramp, duration: options.duration, connected: connected)
    return report
}
