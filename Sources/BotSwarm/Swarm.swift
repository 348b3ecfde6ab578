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
        /// A light bot's connection (``LightClient``), instead of `client`.
        var light: LightClient<Rules>?
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

        var sentBandwidth: Double? { client?.channels.statistics.sentBandwidth ?? light?.channel.sentBandwidth }
        var receivedBandwidth: Double? { client?.channels.statistics.receivedBandwidth ?? light?.channel.receivedBandwidth }
        var reliableSent: Int { client?.reliableSent ?? light?.reliableSent ?? 0 }
        var reliableReceived: Int { client?.reliableReceived ?? light?.reliableReceived ?? 0 }
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
    /// Bots that skip the client-side rendering work: ``LightClient``s, which read no more of a
    /// snapshot than its header, on batched UDP (``LightBotIO``). They aim from their own script.
    let light: Bool
    /// Light bots: io_uring unless false (the plain-syscall fallback, for comparison).
    let ioUring: Bool
    /// The worker threads' CPUs, when pinned.
    let cpus: CPUList?
    /// Light bots as they were before ``LightClient``: SDK clients with prediction off (for
    /// comparison runs).
    let sdkLight: Bool

    let brain: Brain

    /// The process's CPU time at the start and end of the steady part of play (a second after
    /// the ramp to the end), with the bots playing at the end: the swarm's own cost.
    struct CPUWindow {
        var start: (seconds: Double, user: UInt64, system: UInt64, ticks: Int)?
        var end: (seconds: Double, user: UInt64, system: UInt64, playing: Int, ticks: Int)?
    }
    let cpuWindow = Mutex(CPUWindow())
    /// Bot-ticks done, all threads: the CPU per bot-tick is per tick a bot really did (a
    /// starved swarm does fewer than 60 a second).
    let botTicks = Atomic<Int>(0)
    /// Light bots' worker threads on io_uring and on the fallback, and why the fallback.
    let ioThreads = Mutex((uring: 0, fallback: 0, setupErrno: Int32(0)))
    let pinFailure = Mutex<Int32?>(nil)

    init(
        brain: Brain, joins: [(token: [UInt8], game: Int)?], seed: UInt64, conditions: LinkConditions?, chatPerMinute: Double, light: Bool,
        ioUring: Bool = true, cpus: CPUList? = nil, sdkLight: Bool = false
    ) {
        self.sdkLight = sdkLight
        self.brain = brain
        self.light = light
        self.ioUring = ioUring
        self.cpus = cpus
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
            if let cpus, case let error = cpus.pinCurrentThread(), error != 0 { pinFailure.withLock { $0 = error } }
            let mine = bots.filter { $0.index % threads == worker }
            // The network conditioner sits in the SDK's transport, so conditioned light bots stay
            // full clients with prediction off.
            if light && conditions == nil && !sdkLight {
                driveLight(mine, measuresCPU: worker == 0, start: start, ramp: ramp, end: end)
            } else {
                drive(mine, measuresCPU: worker == 0, start: start, ramp: ramp, end: end)
            }
        }
    }

    /// Worker 0 reads the process's CPU time when the steady part starts, and when play ends.
    private func measureCPU(now: Double, start: Double, ramp: Double, ended: Bool) {
        let window = cpuWindow.withLock { $0 }
        if window.start == nil && now >= start + ramp + 1 && !ended {
            let cpu = processCPUMicros()
            let ticks = botTicks.load(ordering: .relaxed)
            cpuWindow.withLock { $0.start = (now, cpu.user, cpu.system, ticks) }
        } else if ended, window.start != nil {
            let cpu = processCPUMicros()
            let playing = connectedNow.load(ordering: .relaxed) - errors.load(ordering: .relaxed)
            let ticks = botTicks.load(ordering: .relaxed)
            cpuWindow.withLock { $0.end = (now, cpu.user, cpu.system, playing, ticks) }
        }
    }

    private func due(_ bot: Bot, now: Double, start: Double, ramp: Double) -> Bool {
        now >= start + ramp * Double(bot.index) / Double(max(1, bots.count))
    }

    private func noteState(_ bot: Bot, _ state: ClientState) {
        if bot.everConnected && state.rawValue <= 0 && !bot.failed {
            bot.failed = true
            bot.finalState = state
            errors.add(1, ordering: .relaxed)
            _ = liveRTT.withLock { $0.removeValue(forKey: bot.index) }
        }
        if state == .connected && !bot.everConnected {
            bot.everConnected = true
            connectedNow.add(1, ordering: .relaxed)
        }
    }

    private func nextInput(_ bot: Bot, frame: () -> ClientSimulation<Rules>.Frame?) -> Rules.Input {
        if bot.ticks % 6 == 0 {
            bot.input = brain.think(frame: frame(), tick: bot.ticks, bot: bot.index)
            return bot.input
        }
        return brain.between(bot.input, tick: bot.ticks, bot: bot.index)
    }

    private func drive(_ bots: [Bot], measuresCPU: Bool, start: Double, ramp: Double, end: Double) {
        let clock = SystemClock()
        let tickSeconds = 1 / tickRate
        var pacer = TickPacer(rate: tickRate, start: start)
        var nextSample = start + 1
        while clock.monotonicSeconds() < end {
            let now = clock.monotonicSeconds()
            for bot in bots {
                if bot.client == nil, let token = bot.token, due(bot, now: now, start: start, ramp: ramp) {
                    bot.client = try? GameClient(
                        rules: brain.rules, settings: MatchSettings(tickRate: Int(tickRate)), bind: NetAddress(ipv4: 127, 0, 0, 1, port: 0))
                    if light { bot.client?.simulation.predicts = false }
                    if let conditions { bot.client?.transport.conditioner = LinkSimulator(conditions: conditions, seed: seed &+ UInt64(bot.index)) }
                    bot.client?.connect(token: token)
                    bot.nextChat = now + Double(bot.index % 10)
                }
                guard let client = bot.client else { continue }
                client.tick(input: nextInput(bot) { light ? nil : client.frame() }, until: 0)
                bot.ticks += 1
                noteState(bot, client.state)
                if client.state == .connected && now >= bot.nextChat {
                    bot.nextChat = now + chatInterval
                    client.sendReliable(Array("gl hf from bot \(bot.index)".utf8))
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
            botTicks.add(bots.count { $0.client != nil }, ordering: .relaxed)
            if measuresCPU { measureCPU(now: now, start: start, ramp: ramp, ended: false) }
            pacer.waitForNextTick()
        }
        if measuresCPU { measureCPU(now: clock.monotonicSeconds(), start: start, ramp: ramp, ended: true) }
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

    /// The light bots of one thread: every tick, one submission collects what arrived on all
    /// their sockets, each bot handles its datagrams and writes its input, and a second
    /// submission sends everything.
    private func driveLight(_ bots: [Bot], measuresCPU: Bool, start: Double, ramp: Double, end: Double) {
        let clock = SystemClock()
        guard let io = LightBotIO(maxSockets: bots.count, useIOUring: ioUring) else {
            errors.add(bots.count, ordering: .relaxed)
            return
        }
        ioThreads.withLock { threads in
            if io.usesIOUring {
                threads.uring += 1
            } else {
                threads.fallback += 1
                threads.setupErrno = io.setupErrno
            }
        }
        // A socket's number is its place here: sockets are numbered in the order they open.
        var bySocket: [LightClient<Rules>] = []
        bySocket.reserveCapacity(bots.count)
        func receive() -> NetInstant {
            io.submit()
            let now = clock.now()
            io.receiveAll { socket, bytes in
                guard socket >= 0, Int(socket) < bySocket.count else { return }
                bySocket[Int(socket)].handle(bytes, now: now, io: io)
            }
            return now
        }
        var pacer = TickPacer(rate: tickRate, start: start)
        var nextSample = start + 1
        while clock.monotonicSeconds() < end {
            let now = receive()
            for bot in bots {
                if bot.light == nil, let token = bot.token, !bot.failed, due(bot, now: now.seconds, start: start, ramp: ramp) {
                    open(bot, token: token, io: io, now: now, into: &bySocket)
                }
                guard let client = bot.light else { continue }
                client.tick(input: nextInput(bot) { nil }, now: now, io: io)
                bot.ticks += 1
                noteState(bot, client.state)
                if client.state == .connected && now.seconds >= bot.nextChat {
                    bot.nextChat = now.seconds + chatInterval
                    client.sendReliable(Array("gl hf from bot \(bot.index)".utf8))
                }
            }
            io.submit()
            if now.seconds >= nextSample {
                nextSample += 1
                for bot in bots {
                    guard let client = bot.light, client.state == .connected else { continue }
                    let rtt = client.channel.rtt
                    bot.rttSamples.append(rtt)
                    liveRTT.withLock { $0[bot.index] = rtt * 1000 }
                    client.takeMeasurements(into: &bot.snapshotGaps, &bot.inputAcks)
                }
            }
            botTicks.add(bySocket.count, ordering: .relaxed)
            if measuresCPU { measureCPU(now: now.seconds, start: start, ramp: ramp, ended: false) }
            pacer.waitForNextTick()
        }
        if measuresCPU { measureCPU(now: clock.monotonicSeconds(), start: start, ramp: ramp, ended: true) }
        // Let reliable echoes still in flight come back, then disconnect.
        let drainEnd = clock.monotonicSeconds() + 1.5
        var drain = TickPacer(rate: tickRate, start: clock.monotonicSeconds())
        while clock.monotonicSeconds() < drainEnd {
            let now = receive()
            for bot in bots { bot.light?.tick(input: brain.rules.idleInput, now: now, io: io) }
            io.submit()
            drain.waitForNextTick()
        }
        let now = receive()
        for bot in bots {
            guard let client = bot.light else { continue }
            if !bot.failed { bot.finalState = client.state }
            client.takeMeasurements(into: &bot.snapshotGaps, &bot.inputAcks)
            client.disconnect(now: now, io: io)
        }
        io.flush(milliseconds: 200)
    }

    private func open(_ bot: Bot, token: ConnectToken, io: LightBotIO, now: NetInstant, into bySocket: inout [LightClient<Rules>]) {
        guard let server = token.serverAddresses.first else { return failToOpen(bot, state: .invalidToken) }
        let socket = io.openSocket(to: server)
        guard socket >= 0, Int(socket) == bySocket.count
        else { return failToOpen(bot, state: .connectionTimedOut) }
        let client = LightClient(rules: brain.rules, socket: socket, server: server)
        bySocket.append(client)
        bot.light = client
        client.connect(token: token, now: now, io: io)
        bot.nextChat = now.seconds + Double(bot.index % 10)
    }

    /// A bot whose socket could not be opened counts as an error, not as a bot still to start.
    private func failToOpen(_ bot: Bot, state: ClientState) {
        bot.failed = true
        bot.finalState = state
        errors.add(1, ordering: .relaxed)
    }

    /// What the report says of the swarm's own cost and of its UDP path.
    private func fillSwarmCosts(_ report: inout SwarmReport) {
        let window = cpuWindow.withLock { $0 }
        if let start = window.start, let end = window.end, end.playing > 0, end.ticks > start.ticks, end.seconds > start.seconds {
            let user = Double(end.user &- start.user)
            let system = Double(end.system &- start.system)
            report.swarmCpuMicrosPerBotTick = (user + system) / Double(end.ticks - start.ticks)
            report.swarmKernelShare = user + system > 0 ? system / (user + system) : 0
            report.swarmTicksPerBotSecond = Double(end.ticks - start.ticks) / (Double(end.playing) * (end.seconds - start.seconds))
        }
        guard light && conditions == nil && !sdkLight else {
            report.swarmIo = "a socket per bot, each read and written on its own (SDK clients)"
            return
        }
        let threads = ioThreads.withLock { $0 }
        if threads.fallback == 0 {
            report.swarmIo = "io_uring"
        } else {
            let why = ioUring ? "io_uring unavailable: \(String(cString: strerror(threads.setupErrno))) (errno \(threads.setupErrno))" : "--no-io-uring"
            report.swarmIo = "plain syscalls on \(threads.fallback) of \(threads.fallback + threads.uring) threads (\(why))"
        }
    }

    func summarise(_ options: SwarmOptions, failedJoins: Int, sampler: StatsSampler, leaderboardQueries: Int, chat: ChatBots) -> SwarmReport {
        let connected = bots.filter(\.everConnected).count
        var reasons: [String: Int] = [:]
        for bot in bots where bot.everConnected && bot.finalState != .connected { reasons[bot.finalState.description, default: 0] += 1 }
        let rtts = bots.flatMap(\.rttSamples).map { $0 * 1000 }
        let stats = sampler.collected
        let upBytes = bots.compactMap(\.sentBandwidth).reduce(0, +) / Double(max(1, connected))
        let downBytes = bots.compactMap(\.receivedBandwidth).reduce(0, +) / Double(max(1, connected))
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
            reliableSent: bots.map(\.reliableSent).reduce(0, +),
            reliableDelivered: bots.map(\.reliableReceived).reduce(0, +),
            chatSent: chat.sent.load(ordering: .relaxed), chatReceived: chat.received.load(ordering: .relaxed),
            bandwidthPerClientUpBytesPerSecond: upBytes, bandwidthPerClientDownBytesPerSecond: downBytes,
            serverCpuSeconds: stats.cpuSeconds, serverPeakMemoryBytes: stats.peakMemory, leaderboardQueries: leaderboardQueries,
            tickOverTime: stats.tickOverTime, bandwidthOverTime: stats.bandwidthOverTime, rttSamplesMs: Array(rtts.prefix(20_000)))
        report.light = light
        report.rampSeconds = options.ramp
        report.serverTickPhasesP99Ms = stats.phasesP99Ms
        report.fillServerCosts(sampler: sampler, ramp: options.ramp, duration: options.duration, connected: connected)
        fillSwarmCosts(&report)
        return report
    }
}

extension Swarm: BotPopulation {
    var connectedCount: Int { connectedNow.load(ordering: .relaxed) }
    var errorCount: Int { errors.load(ordering: .relaxed) }
    func liveRoundTripTimes() -> [Double] { liveRTT.withLock { Array($0.values) } }
}
