import ArbiterClient
import Foundation
import GameCore
import MatchContract
import GameRuntime
import NetProtocol
import Synchronization

/// The bots in play. Each worker thread owns its bots outright; the main task reads them only
/// after the threads have finished (the semaphore orders it).
final class Swarm<Brain: BotBrain>: @unchecked Sendable {
    typealias Rules = Brain.Rules

    final class Bot {
        let index: Int
        let token: ConnectToken?
        var client: GameClient<Rules>?
        var everConnected = false
        var finalState = ClientState.disconnected
        /// Lost its connection during the run (not the clean disconnect at the end).
        var failed = false
        var rttSamples: [Double] = []
        var snapshotGaps: [Double] = []
        var inputAcks: [Double] = []
        var corrections: [Double] = []
        var interpolationDelays: [Double] = []
        var nextChat = 0.0
        var ticks = 0
        /// The bot re-thinks (builds a frame, picks a target) every few ticks, as a player's
        /// reactions would, and repeats its input in between: cheaper bots, more of them per core.
        var input: Rules.Input

        init(index: Int, token: ConnectToken?, idle: Rules.Input) {
            self.index = index
            self.token = token
            input = idle
        }
    }

    let bots: [Bot]
    let seed: UInt64
    let conditions: LinkConditions?
    let chatInterval: Double
    let connectedNow = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    /// The latest RTT sample of every connected bot (ms), for the live line.
    let liveRTT = Mutex<[Int: Double]>([:])
    let tickRate = 60.0
    /// Bots that skip the client-side rendering work (interpolated frames, local prediction):
    /// they aim from their own script instead of at the nearest player.
    let light: Bool

    let brain: Brain

    init(brain: Brain, joins: [(token: [UInt8], game: Int)?], seed: UInt64, conditions: LinkConditions?, chatPerMinute: Double, light: Bool) {
        self.brain = brain
        self.light = light
        let idle = brain.rules.idleInput
        bots = joins.enumerated().map { index, join in Bot(index: index, token: join.flatMap { try? ConnectToken(decoding: $0.token) }, idle: idle) }
        self.seed = seed
        self.conditions = conditions
        chatInterval = chatPerMinute > 0 ? 60 / chatPerMinute : .infinity
    }

    /// Starts the worker threads; the task completes when they all have.
    func run(threads: Int, ramp: Double, duration: Double) -> Task<Void, Never> {
        let clock = SystemClock()
        let start = clock.monotonicSeconds()
        let end = start + ramp + duration
        // Each worker owns its bots outright (see the type's comment).
        return onWorkerThreads(threads, name: "botswarm") { [self] worker in
            drive(bots.filter { $0.index % threads == worker }, start: start, ramp: ramp, end: end)
        }
    }

    private func drive(_ bots: [Bot], start: Double, ramp: Double, end: Double) {
        let clock = SystemClock()
        let tickSeconds = 1 / tickRate
        var pacer = TickPacer(rate: tickRate, start: start)
        var nextSample = start + 1
        while clock.monotonicSeconds() < end {
            let now = clock.monotonicSeconds()
            for bot in bots {
                if bot.client == nil, let token = bot.token, now >= start + ramp * Double(bot.index) / Double(max(1, self.bots.count)) {
                    bot.client = try? GameClient(
                        rules: brain.rules, settings: MatchSettings(tickRate: Int(tickRate)), bind: NetAddress(ipv4: 127, 0, 0, 1, port: 0))
                    if light { bot.client?.simulation.predicts = false }
                    if let conditions { bot.client?.transport.conditioner = LinkSimulator(conditions: conditions, seed: seed &+ UInt64(bot.index)) }
                    bot.client?.connect(token: token)
                    bot.nextChat = now + Double(bot.index % 10)
                }
                guard let client = bot.client else { continue }
                let input: Rules.Input
                if bot.ticks % 6 == 0 {
                    bot.input = brain.think(frame: light ? nil : client.frame(), tick: bot.ticks, bot: bot.index)
                    input = bot.input
                } else {
                    input = brain.between(bot.input, tick: bot.ticks, bot: bot.index)
                }
                client.tick(input: input, until: 0)
                bot.ticks += 1
                if bot.everConnected && client.state.rawValue <= 0 && !bot.failed {
                    bot.failed = true
                    bot.finalState = client.state
                    errors.add(1, ordering: .relaxed)
                    _ = liveRTT.withLock { $0.removeValue(forKey: bot.index) }
                }
                if client.state == .connected {
                    if !bot.everConnected {
                        bot.everConnected = true
                        connectedNow.add(1, ordering: .relaxed)
                    }
                    if now >= bot.nextChat {
                        bot.nextChat = now + chatInterval
                        client.sendReliable(Array("gl hf from bot \(bot.index)".utf8))
                    }
                }
            }
            if now >= nextSample {
                nextSample += 1
                for bot in bots {
                    guard let client = bot.client, client.state == .connected else { continue }
                    bot.rttSamples.append(client.roundTripTime)
                    liveRTT.withLock { $0[bot.index] = client.roundTripTime * 1000 }
                    bot.interpolationDelays.append(client.simulation.interpolationDelayTicks / tickRate)
                    let taken = client.takeMeasurements()
                    bot.snapshotGaps += taken.snapshotGaps
                    bot.inputAcks += taken.inputAckLatencies
                }
            }
            pacer.waitForNextTick()
        }
        // Let reliable echoes still in flight come back, then disconnect.
        let drainEnd = clock.monotonicSeconds() + 1.5
        while clock.monotonicSeconds() < drainEnd {
            for bot in bots { bot.client?.tick(input: brain.rules.idleInput, until: 0) }
            Thread.sleep(forTimeInterval: tickSeconds)
        }
        for bot in bots {
            guard let client = bot.client else { continue }
            if !bot.failed { bot.finalState = client.state }
            bot.corrections = client.simulation.corrections
            let taken = client.takeMeasurements()
            bot.snapshotGaps += taken.snapshotGaps
            bot.inputAcks += taken.inputAckLatencies
            client.disconnect()
        }
    }

    func summarise(_ options: SwarmOptions, failedJoins: Int, sampler: StatsSampler, leaderboardQueries: Int, chat: ChatBots) -> SwarmReport {
        let connected = bots.filter(\.everConnected).count
        var reasons: [String: Int] = [:]
        for bot in bots where bot.everConnected && bot.finalState != .connected { reasons[bot.finalState.description, default: 0] += 1 }
        let rtts = bots.flatMap(\.rttSamples).map { $0 * 1000 }
        let stats = sampler.collected
        let upBytes = bots.compactMap { $0.client?.channels.statistics.sentBandwidth }.reduce(0, +) / Double(max(1, connected))
        let downBytes = bots.compactMap { $0.client?.channels.statistics.receivedBandwidth }.reduce(0, +) / Double(max(1, connected))
        let conditions = options.conditions
        var report = SwarmReport(
            bots: options.bots, playersPerGame: options.playersPerGame, durationSeconds: options.duration, seed: seed,
            conditions: ["loss": conditions.loss, "latency_ms": conditions.latency * 1000, "jitter_ms": conditions.jitter * 1000, "duplicate": conditions.duplicate],
            connected: connected, failedJoins: failedJoins, disconnectsByReason: reasons,
            serverTickMs: stats.tick, serverTickOverruns: stats.overruns, clientRttMs: Distribution(rtts),
            snapshotInterArrivalMs: Distribution(bots.flatMap(\.snapshotGaps)).scaled(1000),
            inputAckLatencyMs: Distribution(bots.flatMap(\.inputAcks)).scaled(1000),
            predictionCorrectionUnits: Distribution(bots.flatMap(\.corrections)),
            interpolationDelayMs: Distribution(bots.flatMap(\.interpolationDelays)).scaled(1000),
            reliableSent: bots.compactMap { $0.client?.reliableSent }.reduce(0, +),
            reliableDelivered: bots.compactMap { $0.client?.reliableReceived }.reduce(0, +),
            chatSent: chat.sent.load(ordering: .relaxed), chatReceived: chat.received.load(ordering: .relaxed),
            bandwidthPerClientUpBytesPerSecond: upBytes, bandwidthPerClientDownBytesPerSecond: downBytes,
            serverCpuSeconds: stats.cpuSeconds, serverPeakMemoryBytes: stats.peakMemory, leaderboardQueries: leaderboardQueries,
            tickOverTime: stats.tickOverTime, bandwidthOverTime: stats.bandwidthOverTime, rttSamplesMs: Array(rtts.prefix(20_000)))
        report.light = light
        report.rampSeconds = options.ramp
        report.serverTickPhasesP99Ms = stats.phasesP99Ms
        report.fillServerCosts(sampler: sampler, ramp: options.ramp, duration: options.duration, connected: connected)
        return report
    }
}

extension Swarm: BotPopulation {
    var connectedCount: Int { connectedNow.load(ordering: .relaxed) }
    var errorCount: Int { errors.load(ordering: .relaxed) }
    func liveRoundTripTimes() -> [Double] { liveRTT.withLock { Array($0.values) } }
}
