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
        /// Its clients (players and spectators), by transport client index, in join order.
        var members: [Int] = []
        var spectatorCount = 0

        init(id: UInt64, rules: Rules, settings: MatchSettings, now: Double) {
            self.id = id
            simulation = MatchSimulation(rules: rules, settings: settings, seed: id)
            tickSeconds = 1 / Double(settings.tickRate)
            nextTick = now + tickSeconds
        }
    }

    final class Member {
        let matchID: UInt64
        let match: RunningMatch
        let player: PlayerID
        let connection: ChannelConnection
        var spectating = false
        /// Admitted with a spectator ticket: never a player, no place in the registry's match.
        var watchOnly = false
        /// Packets this peer may still have processed: refilled at ``GameServerLimits``'s rate.
        var packetAllowance: Double
        var allowanceUpdated: Double

        init(match: RunningMatch, player: PlayerID, connection: ChannelConnection, allowance: Double, now: Double) {
            matchID = match.id
            self.match = match
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
    /// The same matches in creation order: what every tick walks (no hashing per tick).
    private var running: [RunningMatch] = []
    /// Members by transport client index (the transport's indices are small and dense).
    private var memberTable: [Member?] = []
    private var memberCount = 0
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
    public var playerCount: Int { memberCount }
    /// The simulation of a running match (0: the default arena), for tests and tools.
    public func simulation(of matchID: UInt64) -> MatchSimulation<Rules>? { matches[matchID]?.simulation }
    public func connection(of client: Int) -> ChannelConnection? { member(client)?.connection }
    /// Calls `body` with every connected client's connection (for statistics).
    public func forEachConnection(_ body: (ChannelConnection) -> Void) {
        for case let member? in memberTable { body(member.connection) }
    }
    /// The earliest instant a match is due to tick, if any runs.
    public var nextTickDue: Double? {
        var earliest: Double?
        for match in running where earliest.map({ match.nextTick < $0 }) ?? true { earliest = match.nextTick }
        return earliest
    }

    private func member(_ client: Int) -> Member? { client >= 0 && client < memberTable.count ? memberTable[client] : nil }

    private func setMember(_ member: Member?, at client: Int) {
        guard client >= 0 else { return }
        if client >= memberTable.count { memberTable.append(contentsOf: repeatElement(nil, count: client + 1 - memberTable.count)) }
        if memberTable[client] == nil && member != nil { memberCount += 1 }
        if memberTable[client] != nil && member == nil { memberCount -= 1 }
        memberTable[client] = member
    }
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
        let watchOnly = matchID != 0 && ticket?.role == .spectator
        guard let connection = try? ChannelConnection(configuration: connectionConfiguration, pool: memoryPool) else {
            if watchOnly {
                registry.spectatorLeft(matchID: matchID)
            } else if matchID != 0 {
                registry.playerLeft(matchID: matchID, playerID: player, now: now)
            }
            output.disconnect(client)
            return
        }
        let match = matches[matchID] ?? {
            let settings = matchID == 0 ? configuration.defaultArena : (registry.settings(of: matchID) ?? configuration.defaultArena)
            let created = RunningMatch(id: matchID, rules: rules, settings: settings, now: now)
            matches[matchID] = created
            running.append(created)
            return created
        }()
        let member = Member(match: match, player: player, connection: connection, allowance: configuration.limits.packetBurst, now: now)
        setMember(member, at: client)
        match.members.append(client)
        if watchOnly {
            member.spectating = true
            member.watchOnly = true
            match.spectatorCount += 1
            events.append(.spectating(matchID: matchID, playerID: player))
            return
        }
        match.simulation.join(player, name: ticket?.displayName ?? "guest\(clientID % 10_000)")
        events.append(.joined(matchID: matchID, playerID: player))
    }

    /// A payload from a connected client: channel-layer bytes, read in place.
    public func payloadReceived(_ client: Int, bytes: UnsafeRawBufferPointer, now: Double, output: inout some MatchServerOutput) {
        guard let member = member(client) else { return }
        let match = member.match
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
                if !member.spectating {
                    member.spectating = true
                    match.spectatorCount += 1
                    leaveSimulation(match, member.player)
                    events.append(.spectating(matchID: match.id, playerID: member.player))
                }
            } else if !member.spectating {
                match.simulation.receive(message, from: member.player)
            }
        }) != nil {}
    }

    /// The transport ended a client's connection.
    public func clientDisconnected(_ client: Int, reason: DisconnectReason, now: Double) {
        guard let member = member(client) else { return }
        remove(client, member, reason: .disconnected(reason), now: now)
    }

    // MARK: Time

    /// Runs every match that is due (catching up at most ``Configuration/maxCatchUpTicks``),
    /// sends snapshots, ends matches that are over or due, and pushes live scores.
    @discardableResult
    public func tick(now: Double, wallClock: Date, output: inout some MatchServerOutput) -> PassSummary {
        var summary = PassSummary()
        for match in running {
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
        for match in running where match.id != 0 && match.simulation.isOver {
            publishScores(of: match)
            for id in registry.end(matchID: match.id, now: now, wallClock: wallClock) { close(id, now: now, output: &output) }
        }
        if now >= nextSweep {
            nextSweep = now + configuration.sweepSeconds
            for case let member? in memberTable { notePeak(of: member) }
            for match in running where match.id != 0 { publishScores(of: match) }
            for id in registry.endDueMatches(now: now, wallClock: wallClock) { close(id, now: now, output: &output) }
        }
        return summary
    }

    /// The server is stopping, after every client was disconnected: every match still running
    /// is reported abandoned, with the time played so far.
    public func stop(now: Double, wallClock: Date) {
        for match in running where match.id != 0 { publishScores(of: match) }
        registry.abandonAll(now: now, wallClock: wallClock)
        matches.removeAll()
        running.removeAll()
    }

    // MARK: Internals

    private func sendSnapshots(_ match: RunningMatch, now: Double, output: inout some MatchServerOutput) {
        let snapshotForSpectators = match.spectatorCount == 0 ? nil : match.simulation.spectatorSnapshot()
        for client in match.members {
            guard let member = member(client) else { continue }
            let snapshot = member.spectating ? snapshotForSpectators : match.simulation.snapshot(for: member.player)
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
        setMember(nil, at: client)
        notePeak(of: member)
        let match = member.match
        if matches[match.id] === match {
            if let index = match.members.firstIndex(of: client) { match.members.remove(at: index) }
            if member.spectating {
                match.spectatorCount -= 1
            } else {
                leaveSimulation(match, member.player)
            }
            if match.id == 0 && match.members.isEmpty { forget(match) }
        }
        if member.watchOnly {
            registry.spectatorLeft(matchID: member.matchID)
        } else if member.matchID != 0 {
            registry.playerLeft(matchID: member.matchID, playerID: member.player, now: now)
        }
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
        guard let match = matches[matchID] else { return }
        forget(match)
        let order = Rules.standingsOrder
        let standings = match.simulation.scoreboard.sorted { a, b in
            order.placesAhead(a, b) || (!order.placesAhead(b, a) && a.playerID < b.playerID)
        }
        let matchOver = MatchOverMessage.encode(standings)
        let channel = MatchChannel.forSnapshot(ofSize: matchOver.count, configuration: connectionConfiguration)
        for client in match.members.sorted() {
            guard let member = member(client) else { continue }
            setMember(nil, at: client)
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

    /// Takes a match out of the server (its members are dealt with by the caller).
    private func forget(_ match: RunningMatch) {
        matches.removeValue(forKey: match.id)
        if let index = running.firstIndex(where: { $0 === match }) { running.remove(at: index) }
    }

    /// Folds a connection's own peak into the server's.
    private func notePeak(of member: Member) {
        peakConnectionBytes = max(peakConnectionBytes, member.connection.peakHeldBytes)
    }
}
