import Foundation
import GameCore
import Histograms
import Logging
import NetProtocol

/// The game server's transport handler: admits players into the matches their tickets name (or
/// the default arena), runs every match on a fixed tick from absolute deadlines, moves inputs and
/// snapshots through each client's channel connection, and reports finished matches.
public final class GameServerHandler: TransportServerHandler {
    public typealias Rules = ArenaRules

    final class RunningMatch {
        let id: UInt64
        let simulation: MatchSimulation<Rules>
        let tickSeconds: Double
        var nextTick: Double
        var members: Set<Int> = []
        var spectators: Set<Int> = []

        init(id: UInt64, settings: MatchSettings, now: Double) {
            self.id = id
            simulation = MatchSimulation(rules: ArenaRules(), settings: settings, seed: id)
            tickSeconds = 1 / Double(settings.tickRate)
            nextTick = now + tickSeconds
        }
    }

    final class Member {
        let matchID: UInt64
        let player: PlayerID
        let connection: ChannelConnection
        /// Packets this peer may still have processed: refilled at ``GameServerLimits``'s rate.
        var packetAllowance: Double
        var allowanceUpdated: Double
        /// Disconnected for a fault; the transport's event has not arrived yet.
        var closing = false

        init(matchID: UInt64, player: PlayerID, connection: ChannelConnection, allowance: Double, now: Double) {
            self.matchID = matchID
            self.player = player
            self.connection = connection
            packetAllowance = allowance
            allowanceUpdated = now
        }
    }

    public let directory: MatchDirectory
    let logger: Logger
    let connectionConfiguration: ConnectionConfiguration
    public let limits: GameServerLimits
    /// What every connection holds together, bounded by ``GameServerLimits/totalBudgetBytes``.
    public let memoryPool: ChannelMemoryPool
    /// Payloads dropped unprocessed because their peer sent faster than its allowance.
    public private(set) var rateLimitedPackets: UInt64 = 0
    /// Messages clients sent on channels the server does not read (dropped on arrival).
    public private(set) var unreadChannelMessages: UInt64 = 0
    /// Reliable echoes left for later because the echoing connection was at its budget.
    public private(set) var deferredEchoes: UInt64 = 0
    /// The most any one connection has held (folded in from each connection's own peak every
    /// half second and when it leaves).
    public private(set) var peakConnectionBytes = 0
    /// Connections closed for breaking the channel protocol, by fault kind.
    public private(set) var faults: [String: UInt64] = [:]
    private var matches: [UInt64: RunningMatch] = [:]
    private var members: [Int: Member] = [:]
    private var lastMatchSweep = 0.0
    /// Ticks a match may run late before it skips ahead instead of catching up.
    public let maxCatchUpTicks = 4
    public private(set) var tickDurations = TickHistogram()
    /// The pass split into its phases: receiving since the previous pass (socket, decryption,
    /// channels, input decoding), simulating, and building and sending snapshots.
    public private(set) var receiveDurations = TickHistogram()
    public private(set) var simulateDurations = TickHistogram()
    public private(set) var snapshotSendDurations = TickHistogram()
    private let clock = SystemClock()
    public private(set) var overruns: UInt64 = 0
    public private(set) var ticks: UInt64 = 0
    public let defaultArena: MatchSettings
    /// The essentials for the stats route, refreshed every half second.
    public let statsBoard: GameServerStatsBoard
    private let metrics = GameServerMetrics()
    private var lastStats = 0.0

    public init(
        directory: MatchDirectory, logger: Logger, statsBoard: GameServerStatsBoard = GameServerStatsBoard(),
        defaultArena: MatchSettings = MatchSettings(maxPlayers: 64, tickRate: 60, scoreLimit: 1_000_000, timeLimitSeconds: 86_400),
        limits: GameServerLimits = GameServerLimits()
    ) {
        self.directory = directory
        self.logger = logger
        self.defaultArena = defaultArena
        self.statsBoard = statsBoard
        self.limits = limits
        var configuration = GameServerHandler.connectionConfiguration()
        configuration.memoryBudgetBytes = limits.connectionBudgetBytes
        configuration.overBudgetGraceSeconds = limits.overBudgetGraceSeconds
        connectionConfiguration = configuration
        memoryPool = ChannelMemoryPool(limitBytes: limits.totalBudgetBytes)
    }

    typealias Channel = MatchChannels

    /// The channel settings both ends of a match connection use (``MatchChannels``).
    public static func connectionConfiguration() -> ConnectionConfiguration { MatchChannels.connectionConfiguration() }

    /// Live matches and their players (for stats).
    public var matchCount: Int { matches.count }
    public var playerCount: Int { members.count }

    public func clientConnected(_ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress) {
        let ticket = context.endpoint.userData(of: clientIndex).flatMap { MatchTicket(userData: $0) }
        let now = context.now.seconds
        let matchID: UInt64
        switch directory.playerConnected(ticket, now: now) {
        case .admitted(let id):
            matchID = id
        case .defaultArena:
            matchID = 0
        case .unknownMatch, .full:
            logger.info("turned a client away", metadata: ["client_id": "\(clientID)", "match_id": "\(ticket?.matchID ?? 0)"])
            context.disconnect(clientIndex)
            return
        }
        let match = matches[matchID] ?? {
            let settings = matchID == 0 ? defaultArena : (directory.settings(of: matchID) ?? defaultArena)
            let created = RunningMatch(id: matchID, settings: settings, now: now)
            matches[matchID] = created
            return created
        }()
        guard let connection = try? ChannelConnection(configuration: connectionConfiguration, pool: memoryPool) else {
            return context.disconnect(clientIndex)
        }
        let player = ticket?.playerID ?? clientID
        members[clientIndex] = Member(
            matchID: matchID, player: player, connection: connection, allowance: limits.packetBurst, now: now)
        match.members.insert(clientIndex)
        match.simulation.join(player, name: ticket?.displayName ?? "guest\(clientID % 10_000)")
        logger.info("player joined", metadata: ["match_id": "\(matchID)", "player_id": "\(player)"])
    }

    public func payloadReceived(_ context: inout TransportServer.Context, clientIndex: Int, bytes: UnsafeRawBufferPointer) {
        guard let member = members[clientIndex], !member.closing, let match = matches[member.matchID] else { return }
        let now = context.now.seconds
        // However fast a peer sends, it gets its share of the thread and no more: past its
        // allowance its packets are dropped before any channel work (and not acknowledged).
        member.packetAllowance = min(limits.packetBurst, member.packetAllowance + (now - member.allowanceUpdated) * limits.packetsPerSecond)
        member.allowanceUpdated = now
        guard member.packetAllowance >= 1 else {
            rateLimitedPackets &+= 1
            metrics.rateLimitedPackets.increment()
            return
        }
        member.packetAllowance -= 1
        member.connection.handlePacket(bytes, now: now)
        if let fault = member.connection.fault { return disconnect(clientIndex, member, for: fault, context: &context) }
        // Reliable messages on channel 0 are echoed: clients (and the load tester) use them to
        // check end-to-end reliable delivery. An echo the budget cannot hold yet stays in the
        // receive queue, which back-pressures the peer, rather than being dropped.
        while let size = member.connection.nextMessageSize(on: Channel.reliable) {
            guard member.connection.canSend(size, on: Channel.reliable) else {
                deferredEchoes &+= 1
                break
            }
            guard let message = member.connection.receive(on: Channel.reliable) else { break }
            _ = try? member.connection.send(message, on: Channel.reliable)
        }
        for channel in Channel.unreadByServer {
            while member.connection.receive(on: channel) != nil { unreadChannelMessages &+= 1 }
        }
        while let message = member.connection.receive(on: Channel.input) {
            if message.first == GameMessages.spectate {
                if !match.spectators.contains(clientIndex) {
                    match.spectators.insert(clientIndex)
                    match.simulation.leave(member.player)
                }
                continue
            }
            guard !match.spectators.contains(clientIndex) else { continue }
            match.simulation.receive(message, from: member.player)
        }
    }

    private func disconnect(_ clientIndex: Int, _ member: Member, for fault: ChannelFault, context: inout TransportServer.Context) {
        guard !member.closing else { return }
        member.closing = true
        logger.info(
            "channel protocol violation",
            metadata: ["reason": "\(fault)", "match_id": "\(member.matchID)", "player_id": "\(member.player)", "held_bytes": "\(member.connection.heldBytes)"])
        metrics.channelFaults[fault.kind]?.increment()
        faults[fault.kind, default: 0] &+= 1
        context.disconnect(clientIndex)
    }

    public func clientDisconnected(
        _ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress, reason: DisconnectReason
    ) {
        guard let member = members.removeValue(forKey: clientIndex) else { return }
        notePeak(of: member)
        logger.info("player left", metadata: ["match_id": "\(member.matchID)", "player_id": "\(member.player)", "reason": "\(reason)"])
        if let match = matches[member.matchID] {
            match.members.remove(clientIndex)
            match.spectators.remove(clientIndex)
            match.simulation.leave(member.player)
            if member.matchID == 0 && match.members.isEmpty { matches.removeValue(forKey: 0) }
        }
        if member.matchID != 0 { directory.playerDisconnected(matchID: member.matchID, playerID: member.player, now: context.now.seconds) }
    }

    public func tick(_ context: inout TransportServer.Context) {
        let now = context.now.seconds
        // One server tick = one pass over every match that is due; its duration (simulate, build
        // and send snapshots for all of them) is what the histogram records.
        let passStart = clock.uptimeNanoseconds()
        var simulate: UInt64 = 0
        var snapshotSend: UInt64 = 0
        var ranAny = false
        for match in matches.values {
            var ran = 0
            while now >= match.nextTick && ran < maxCatchUpTicks {
                let (simulated, sent) = runTick(match, context: &context)
                simulate &+= simulated
                snapshotSend &+= sent
                ticks &+= 1
                match.nextTick += match.tickSeconds
                ran += 1
                ranAny = true
            }
            if now >= match.nextTick {
                // Too far behind: count it and skip ahead rather than burst.
                overruns &+= 1
                metrics.overruns.increment()
                match.nextTick = now + match.tickSeconds
            }
            if match.id != 0 && match.simulation.isOver { finish(match, context: &context, now: now) }
        }
        if ranAny {
            // The send syscalls belong to the pass: flush before the clock stops.
            let flushStart = clock.uptimeNanoseconds()
            context.flush()
            let passEnd = clock.uptimeNanoseconds()
            snapshotSend &+= passEnd &- flushStart
            let elapsed = passEnd &- passStart
            let received = context.receiveNanosecondsSinceLastTick
            tickDurations.record(seconds: Double(elapsed) / 1_000_000_000)
            receiveDurations.record(seconds: Double(received) / 1_000_000_000)
            simulateDurations.record(seconds: Double(simulate) / 1_000_000_000)
            snapshotSendDurations.record(seconds: Double(snapshotSend) / 1_000_000_000)
            metrics.tickDuration.recordNanoseconds(Int64(elapsed))
            metrics.receiveDuration.recordNanoseconds(Int64(received))
            metrics.simulateDuration.recordNanoseconds(Int64(simulate))
            metrics.snapshotSendDuration.recordNanoseconds(Int64(snapshotSend))
        }
        if now - lastStats >= 0.5 {
            lastStats = now
            publishStats(context.endpoint.counters)
        }
        if now - lastMatchSweep >= 0.5 {
            lastMatchSweep = now
            for id in directory.endDueMatches(now: now, wallClock: Date()) {
                if let match = matches[id] { disconnectAll(match, context: &context) }
            }
        }
    }

    private func publishStats(_ counters: TransportCounters) {
        for member in members.values { notePeak(of: member) }
        metrics.update(from: counters)
        metrics.clients.record(members.count)
        metrics.heldBytes.record(memoryPool.usedBytes)
        metrics.heldPeakBytes.record(memoryPool.peakBytes)
        metrics.connectionPeakBytes.record(peakConnectionBytes)
        metrics.matches.record(matches.count)
        var rtts = SampleHistogram.durations()
        for member in members.values { rtts.record(member.connection.statistics.rtt) }
        let losses = members.values.map { $0.connection.statistics.packetLoss }
        let rttP50 = rtts.percentile(0.5)
        let rttP99 = rtts.percentile(0.99)
        let loss = losses.isEmpty ? 0 : losses.reduce(0, +) / Double(losses.count)
        metrics.rttP50.record(rttP50)
        metrics.rttP99.record(rttP99)
        metrics.loss.record(loss)
        var stats = GameServerStats()
        stats.ticks = ticks
        stats.tickP50Seconds = tickDurations.percentile(0.5)
        stats.tickP90Seconds = tickDurations.percentile(0.9)
        stats.tickP99Seconds = tickDurations.percentile(0.99)
        stats.tickP999Seconds = tickDurations.percentile(0.999)
        stats.tickMaxSeconds = tickDurations.maxSeconds
        stats.overruns = overruns
        stats.receive = .init(receiveDurations)
        stats.simulate = .init(simulateDurations)
        stats.snapshotSend = .init(snapshotSendDurations)
        stats.matches = matches.count
        stats.connectedClients = members.count
        stats.datagramsIn = counters.datagramsReceived
        stats.datagramsOut = counters.datagramsSent
        stats.bytesIn = counters.bytesReceived
        stats.bytesOut = counters.bytesSent
        stats.drops = Dictionary(uniqueKeysWithValues: counters.dropSummary.map { ($0.0.description, $0.1) })
        stats.rttP50Seconds = rttP50
        stats.rttP99Seconds = rttP99
        stats.meanPacketLoss = loss
        statsBoard.publish(stats)
    }

    /// Runs one tick of `match`; returns the nanoseconds spent simulating and on snapshots.
    private func runTick(_ match: RunningMatch, context: inout TransportServer.Context) -> (UInt64, UInt64) {
        let start = clock.uptimeNanoseconds()
        let events = match.simulation.step()
        if match.id != 0 {
            for event in events {
                if case .killed(let victim, let killer) = event {
                    directory.record(matchID: match.id, playerID: victim, deaths: 1)
                    if killer != victim { directory.record(matchID: match.id, playerID: killer, score: 1, kills: 1) }
                }
            }
        }
        let simulated = clock.uptimeNanoseconds()
        let snapshotForSpectators = match.spectators.isEmpty ? nil : match.simulation.spectatorSnapshot()
        for clientIndex in match.members {
            guard let member = members[clientIndex], !member.closing else { continue }
            let snapshot = match.spectators.contains(clientIndex) ? snapshotForSpectators : match.simulation.snapshot(for: member.player)
            if let snapshot {
                let channel = snapshot.count <= connectionConfiguration.maxUnreliableMessageBytes ? Channel.snapshot : Channel.largeSnapshot
                _ = try? member.connection.send(snapshot, on: channel)
            }
            member.connection.generatePackets(now: context.now.seconds) { packet in context.send(packet, to: clientIndex) }
            if let fault = member.connection.fault { disconnect(clientIndex, member, for: fault, context: &context) }
        }
        let sent = clock.uptimeNanoseconds()
        return (simulated &- start, sent &- simulated)
    }

    private func finish(_ match: RunningMatch, context: inout TransportServer.Context, now: Double) {
        for id in directory.end(matchID: match.id, now: now, wallClock: Date()) {
            if let ended = matches[id] { disconnectAll(ended, context: &context) }
        }
    }

    /// The server is stopping (after every client was disconnected): every match still running
    /// is reported abandoned, with the time played so far.
    public func serverStopped(now: Double) {
        directory.abandonAll(now: now, wallClock: Date())
        matches.removeAll()
    }

    private func disconnectAll(_ match: RunningMatch, context: inout TransportServer.Context) {
        matches.removeValue(forKey: match.id)
        for clientIndex in match.members {
            if let member = members.removeValue(forKey: clientIndex) { notePeak(of: member) }
            context.disconnect(clientIndex)
        }
    }

    /// Folds a connection's own peak into the server's (each connection keeps its peak as it
    /// counts what it holds, so nothing is summed per datagram here).
    private func notePeak(of member: Member) {
        peakConnectionBytes = max(peakConnectionBytes, member.connection.peakHeldBytes)
    }
}

/// Message kinds on the input channel besides input messages.
public enum GameMessages {
    /// "I only watch": the server removes the client's player and sends it the whole world.
    public static let spectate: UInt8 = 3
}
