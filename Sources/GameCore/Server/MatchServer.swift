import Foundation
import MatchContract
import NetProtocol

/// The match server, sans-IO: every match this game server runs, each player's channel
/// connection, admission, spectating, the fixed tick, snapshots, live scores and match ends.
///
/// A driver feeds it transport events (a client connected with its ticket, a payload arrived,
/// a client disconnected) and calls ``tick(now:wallClock:output:)`` often; the server puts the
/// packets to send and the clients to drop into a ``MatchServerOutput``, tells the
/// ``MatchRegistry`` who joined, left and scored, and queues ``MatchServerEvent``s for the
/// driver's log and metrics. Time comes in as arguments; nothing here reads a clock, except
/// the optional `stopwatch` that measures the phases of a pass.
public final class MatchServer<Rules: GameRules> {
    public struct Configuration: Sendable {
        public var limits: GameServerLimits
        /// The open match that tokens without a ticket join (match id 0).
        public var defaultArena: MatchSettings
        /// Ticks a match may run late before it skips ahead instead of catching up.
        public var maxCatchUpTicks: Int
        /// Seconds between live-score updates to the registry and sweeps for due matches.
        public var sweepSeconds: Double

        public init(
            limits: GameServerLimits = GameServerLimits(),
            defaultArena: MatchSettings = MatchSettings(maxPlayers: 64, tickRate: 60, scoreLimit: 1_000_000, timeLimitSeconds: 86_400),
            maxCatchUpTicks: Int = 4, sweepSeconds: Double = 0.25
        ) {
            self.limits = limits
            self.defaultArena = defaultArena
            self.maxCatchUpTicks = maxCatchUpTicks
            self.sweepSeconds = sweepSeconds
        }
    }

    /// How one ``tick(now:wallClock:output:)`` went.
    public struct PassSummary: Sendable, Equatable {
        /// Match ticks run (0: nothing was due).
        public var ticks = 0
        public var simulateNanoseconds: UInt64 = 0
        /// Building snapshots and packets (the driver adds its flush).
        public var snapshotNanoseconds: UInt64 = 0
    }

    final class RunningMatch {
        let id: UInt64
        let simulation: MatchSimulation<Rules>
        let tickSeconds: Double
        var nextTick: Double
        var members: Set<Int> = []
        var spectators: Set<Int> = []

        init(id: UInt64, rules: Rules, settings: MatchSettings, now: Double) {
            self.id = id
            simulation = MatchSimulation(rules: rules, settings: settings, seed: id)
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

        init(matchID: UInt64, player: PlayerID, connection: ChannelConnection, allowance: Double, now: Double) {
            self.matchID = matchID
            self.player = player
            self.connection = connection
            packetAllowance = allowance
            allowanceUpdated = now
        }
    }

    public let rules: Rules
    public let registry: any MatchRegistry
    public let configuration: Configuration
    /// The channel settings of every match connection (``MatchChannel``, with this server's budget).
    public let connectionConfiguration: ConnectionConfiguration
    /// What every connection holds together, bounded by ``GameServerLimits/totalBudgetBytes``.
    public let memoryPool: ChannelMemoryPool
    private let stopwatch: () -> UInt64

    /// Payloads dropped unprocessed because their peer sent faster than its allowance.
    public private(set) var rateLimitedPackets: UInt64 = 0
    /// Messages clients sent on channels the server does not read (dropped on arrival).
    public private(set) var unreadChannelMessages: UInt64 = 0
    /// Reliable echoes left for later because the echoing connection was at its budget.
    public private(set) var deferredEchoes: UInt64 = 0
    /// The most any one connection has held (folded in from each connection's own peak at
    /// every sweep and when it leaves).
    public private(set) var peakConnectionBytes = 0
    /// Connections closed for breaking the channel protocol, by fault kind.
    public private(set) var faults: [String: UInt64] = [:]
    public private(set) var ticks: UInt64 = 0
    /// Match ticks times the clients each one served (players and spectators): the unit a
    /// game server's cost is counted in.
    public private(set) var playerTicks: UInt64 = 0
    /// Snapshots queued for clients, and their bytes (before channel framing).
    public private(set) var snapshotsSent: UInt64 = 0
    public private(set) var snapshotBytesSent: UInt64 = 0
    /// Passes where a match was so late it skipped ahead.
    public private(set) var overruns: UInt64 = 0
    /// What happened since the driver last took them (``takeEvents()``).
    public private(set) var events: [MatchServerEvent] = []

    private var matches: [UInt64: RunningMatch] = [:]
    private var members: [Int: Member] = [:]
    private var nextSweep = 0.0

    public init(rules: Rules, registry: any MatchRegistry, configuration: Configuration = Configuration(), stopwatch: @escaping () -> UInt64 = { 0 }) {
        self.rules = rules
        self.registry = registry
        self.configuration = configuration
        self.stopwatch = stopwatch
        connectionConfiguration = MatchChannel.connectionConfiguration(limits: configuration.limits)
        memoryPool = ChannelMemoryPool(limitBytes: configuration.limits.totalBudgetBytes)
    }

    public var matchCount: Int { matches.count }
    public var playerCount: Int { members.count }
    /// The simulation of a running match (0: the default arena), for tests and tools.
    public func simulation(of matchID: UInt64) -> MatchSimulation<Rules>? { matches[matchID]?.simulation }
    public func connection(of client: Int) -> ChannelConnection? { members[client]?.connection }
    /// Calls `body` with every connected client's connection (for statistics).
    public func forEachConnection(_ body: (ChannelConnection) -> Void) {
        for member in members.values { body(member.connection) }
    }
    /// The earliest instant a match is due to tick, if any runs.
    public var nextTickDue: Double? { matches.values.lazy.map(\.nextTick).min() }
    /// When ``tick(now:wallClock:output:)`` next has work: a match's tick or the next sweep.
    public var nextDeadline: Double { min(nextSweep, nextTickDue ?? nextSweep) }

    /// Hands the events since the last call to the driver.
    public func takeEvents() -> [MatchServerEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    // MARK: Transport events

    /// A client completed the transport handshake; `ticket` is what its connect token carried.
    public func clientConnected(_ client: Int, clientID: UInt64, ticket: MatchTicket?, now: Double, output: inout some MatchServerOutput) {
        let matchID: UInt64
        switch registry.admit(ticket, now: now) {
        case .admitted(let id):
            matchID = id
        case .defaultArena:
            matchID = 0
        case let refused:
            events.append(.turnedAway(clientID: clientID, matchID: ticket?.matchID ?? 0, admission: refused))
            output.disconnect(client)
            return
        }
        let player = ticket?.playerID ?? clientID
        guard let connection = try? ChannelConnection(configuration: connectionConfiguration, pool: memoryPool) else {
            if matchID != 0 { registry.playerLeft(matchID: matchID, playerID: player, now: now) }
            output.disconnect(client)
            return
        }
        let match = matches[matchID] ?? {
            let settings = matchID == 0 ? configuration.defaultArena : (registry.settings(of: matchID) ?? configuration.defaultArena)
            let created = RunningMatch(id: matchID, rules: rules, settings: settings, now: now)
            matches[matchID] = created
            return created
        }()
        members[client] = Member(matchID: matchID, player: player, connection: connection, allowance: configuration.limits.packetBurst, now: now)
        match.members.insert(client)
        match.simulation.join(player, name: ticket?.displayName ?? "guest\(clientID % 10_000)")
        events.append(.joined(matchID: matchID, playerID: player))
    }

    /// A payload from a connected client: channel-layer bytes, read in place.
    public func payloadReceived(_ client: Int, bytes: UnsafeRawBufferPointer, now: Double, output: inout some MatchServerOutput) {
        guard let member = members[client], let match = matches[member.matchID] else { return }
        // However fast a peer sends, it gets its share of the thread and no more: past its
        // allowance its packets are dropped before any channel work (and not acknowledged).
        let limits = configuration.limits
        // A server that drains its socket at its ticks hands over each payload with its arrival
        // time, so `now` may step back a little between calls: never refill backwards.
        let elapsed = now - member.allowanceUpdated
        if elapsed > 0 {
            member.packetAllowance = min(limits.packetBurst, member.packetAllowance + elapsed * limits.packetsPerSecond)
            member.allowanceUpdated = now
        }
        guard member.packetAllowance >= 1 else {
            rateLimitedPackets &+= 1
            return
        }
        member.packetAllowance -= 1
        let connection = member.connection
        connection.handlePacket(bytes, now: now)
        if let fault = connection.fault { return drop(client, member, for: fault, now: now, output: &output) }
        // Reliable messages on channel 0 are echoed: clients (and the load tester) use them to
        // check end-to-end reliable delivery. An echo the budget cannot hold yet stays in the
        // receive queue, which back-pressures the peer, rather than being dropped.
        while let size = connection.nextMessageSize(on: MatchChannel.reliable.rawValue) {
            guard connection.canSend(size, on: MatchChannel.reliable.rawValue) else {
                deferredEchoes &+= 1
                break
            }
            guard let message = connection.receive(on: .reliable) else { break }
            _ = try? connection.send(message, on: .reliable)
        }
        for channel in MatchChannel.unreadByServer {
            while connection.withNextMessage(on: channel, { (_: [UInt8]) -> Void in }) != nil { unreadChannelMessages &+= 1 }
        }
        // Inputs are read in place: the channel keeps the buffer for the next one.
        while connection.withNextMessage(on: .input, { (message: [UInt8]) -> Void in
            if message.first == MatchMessage.spectate {
                if !match.spectators.contains(client) {
                    match.spectators.insert(client)
                    leaveSimulation(match, member.player)
                    events.append(.spectating(matchID: match.id, playerID: member.player))
                }
            } else if !match.spectators.contains(client) {
                match.simulation.receive(message, from: member.player)
            }
        }) != nil {}
    }

    /// The transport ended a client's connection.
    public func clientDisconnected(_ client: Int, reason: DisconnectReason, now: Double) {
        guard let member = members[client] else { return }
        remove(client, member, reason: .disconnected(reason), now: now)
    }

    // MARK: Time

    /// Runs every match that is due (catching up at most ``Configuration/maxCatchUpTicks``),
    /// sends snapshots, ends matches that are over or due, and pushes live scores.
    @discardableResult
    public func tick(now: Double, wallClock: Date, output: inout some MatchServerOutput) -> PassSummary {
        var summary = PassSummary()
        for match in matches.values {
            var ran = 0
            while now >= match.nextTick && ran < configuration.maxCatchUpTicks {
                let started = stopwatch()
                match.simulation.step()
                let simulated = stopwatch()
                sendSnapshots(match, now: now, output: &output)
                summary.simulateNanoseconds &+= simulated &- started
                summary.snapshotNanoseconds &+= stopwatch() &- simulated
                summary.ticks += 1
                ticks &+= 1
                playerTicks &+= UInt64(match.members.count)
                match.nextTick += match.tickSeconds
                ran += 1
            }
            if now >= match.nextTick {
                // Too far behind: count it and skip ahead rather than burst.
                overruns &+= 1
                match.nextTick = now + match.tickSeconds
            }
        }
        for match in matches.values where match.id != 0 && match.simulation.isOver {
            publishScores(of: match)
            for id in registry.end(matchID: match.id, now: now, wallClock: wallClock) { close(id, now: now, output: &output) }
        }
        if now >= nextSweep {
            nextSweep = now + configuration.sweepSeconds
            for member in members.values { notePeak(of: member) }
            for match in matches.values where match.id != 0 { publishScores(of: match) }
            for id in registry.endDueMatches(now: now, wallClock: wallClock) { close(id, now: now, output: &output) }
        }
        return summary
    }

    /// The server is stopping, after every client was disconnected: every match still running
    /// is reported abandoned, with the time played so far.
    public func stop(now: Double, wallClock: Date) {
        for match in matches.values where match.id != 0 { publishScores(of: match) }
        registry.abandonAll(now: now, wallClock: wallClock)
        matches.removeAll()
    }

    // MARK: Internals

    private func sendSnapshots(_ match: RunningMatch, now: Double, output: inout some MatchServerOutput) {
        let snapshotForSpectators = match.spectators.isEmpty ? nil : match.simulation.spectatorSnapshot()
        for client in match.members {
            guard let member = members[client] else { continue }
            let snapshot = match.spectators.contains(client) ? snapshotForSpectators : match.simulation.snapshot(for: member.player)
            if let snapshot {
                snapshotsSent &+= 1
                snapshotBytesSent &+= UInt64(snapshot.count)
                _ = try? member.connection.send(snapshot, on: MatchChannel.forSnapshot(ofSize: snapshot.count, configuration: connectionConfiguration))
            }
            member.connection.generatePackets(now: now) { packet in output.send(packet, to: client) }
            if let fault = member.connection.fault { drop(client, member, for: fault, now: now, output: &output) }
        }
    }

    private func drop(_ client: Int, _ member: Member, for fault: ChannelFault, now: Double, output: inout some MatchServerOutput) {
        faults[fault.kind, default: 0] &+= 1
        remove(client, member, reason: .fault(fault), now: now)
        output.disconnect(client)
    }

    /// Forgets a client: out of its match's simulation and member lists, its time played
    /// closed in the registry, its departure reported once.
    private func remove(_ client: Int, _ member: Member, reason: LeaveReason, now: Double) {
        members.removeValue(forKey: client)
        notePeak(of: member)
        if let match = matches[member.matchID] {
            match.members.remove(client)
            let spectator = match.spectators.remove(client) != nil
            if !spectator { leaveSimulation(match, member.player) }
            if match.id == 0 && match.members.isEmpty { matches.removeValue(forKey: 0) }
        }
        if member.matchID != 0 { registry.playerLeft(matchID: member.matchID, playerID: member.player, now: now) }
        events.append(.left(matchID: member.matchID, playerID: member.player, reason: reason))
    }

    /// Takes a player out of the simulation, keeping its score line in the registry first (the
    /// rules forget a player who leaves).
    private func leaveSimulation(_ match: RunningMatch, _ player: PlayerID) {
        if match.id != 0 { publishScores(of: match) }
        match.simulation.leave(player)
    }

    private func publishScores(of match: RunningMatch) {
        registry.updateScores(matchID: match.id, lines: match.simulation.scoreboard)
    }

    /// A match ended in the registry: its players are told the final standings (best effort,
    /// see ``MatchOverMessage``) and disconnected.
    private func close(_ matchID: UInt64, now: Double, output: inout some MatchServerOutput) {
        guard let match = matches.removeValue(forKey: matchID) else { return }
        let order = Rules.standingsOrder
        let standings = match.simulation.scoreboard.sorted { a, b in
            order.placesAhead(a, b) || (!order.placesAhead(b, a) && a.playerID < b.playerID)
        }
        let matchOver = MatchOverMessage.encode(standings)
        let channel = MatchChannel.forSnapshot(ofSize: matchOver.count, configuration: connectionConfiguration)
        for client in match.members.sorted() {
            guard let member = members.removeValue(forKey: client) else { continue }
            notePeak(of: member)
            events.append(.left(matchID: matchID, playerID: member.player, reason: .matchEnded))
            do {
                try member.connection.send(matchOver, on: channel)
                member.connection.generatePackets(now: now) { packet in output.send(packet, to: client) }
            } catch {
                // Its queue is full: the disconnect alone will have to say it.
            }
            output.disconnect(client)
        }
        events.append(.matchEnded(matchID: matchID))
    }

    /// Folds a connection's own peak into the server's.
    private func notePeak(of member: Member) {
        peakConnectionBytes = max(peakConnectionBytes, member.connection.peakHeldBytes)
    }
}
