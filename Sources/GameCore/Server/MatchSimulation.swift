/// One match on the server, sans-IO: players join and leave, their input messages arrive, and
/// every tick the world advances by exactly one step; each client then gets a snapshot encoded
/// against the newest snapshot it acknowledged, from one world history shared by all clients.
public final class MatchSimulation<Rules: GameRules> {
    public let rules: Rules
    public let settings: MatchSettings
    public private(set) var state: Rules.State
    public private(set) var tick: UInt32 = 0
    public private(set) var history: WorldHistory

    struct Client {
        var entity: EntityID
        /// Per sent snapshot tick: the entities the client holds after it, and which of those are
        /// stale (deferred for the byte budget). This is what makes a budgeted snapshot a valid
        /// baseline: the encoder works from the client's view, not the world's.
        var views: [UInt32: (held: Set<EntityID>, stale: Set<EntityID>)] = [:]
        var inputs: InputBuffer<Rules.Input>
        var ackedSnapshot: UInt32 = 0
        var viewTick: UInt32 = 0
        var malformedMessages: UInt64 = 0
        var joinedTick: UInt32
    }

    private var clients: [PlayerID: Client] = [:]
    /// Player ids in order, kept as players join and leave (not re-sorted every tick).
    public private(set) var players: [PlayerID] = []
    public private(set) var malformedMessages: UInt64 = 0

    /// Most bytes one snapshot may take; entities past it are prioritised by distance to the
    /// client's own player and sent in later snapshots. Fits one packet by default.
    public var snapshotBudgetBytes: Int = 1100

    public init(rules: Rules, settings: MatchSettings, seed: UInt64 = 0, historyTicks: Int = 64) {
        self.rules = rules
        self.settings = settings
        state = rules.initialState(settings: settings, seed: seed)
        history = WorldHistory(capacity: historyTicks)
    }


    @discardableResult
    public func join(_ player: PlayerID, name: String) -> EntityID {
        if let existing = clients[player] { return existing.entity }
        let entity = rules.addPlayer(player, name: name, to: &state, tick: tick)
        clients[player] = Client(entity: entity, inputs: InputBuffer(idle: rules.idleInput), joinedTick: tick)
        let position = players.firstIndex { $0 > player } ?? players.endIndex
        players.insert(player, at: position)
        return entity
    }

    public func leave(_ player: PlayerID) {
        clients.removeValue(forKey: player)
        players.removeAll { $0 == player }
        rules.removePlayer(player, from: &state)
    }

    /// An input message from `player`. Malformed ones are counted and dropped.
    public func receive(_ message: [UInt8], from player: PlayerID) {
        guard clients[player] != nil else { return }
        guard let decoded = InputMessage<Rules.Input>.decode(message, rules: rules) else {
            malformedMessages &+= 1
            clients[player]?.malformedMessages &+= 1
            return
        }
        clients[player]?.inputs.receive(newestSequence: decoded.newestSequence, inputs: decoded.inputs)
        // Acknowledgements only move forward, and only to snapshots that exist.
        if decoded.ackedSnapshot <= tick, decoded.ackedSnapshot > clients[player]?.ackedSnapshot ?? 0 {
            clients[player]?.ackedSnapshot = decoded.ackedSnapshot
        }
        clients[player]?.viewTick = min(decoded.viewTick, tick)
    }

    /// Advances one tick. Returns the game's events.
    @discardableResult
    public func step() -> [Rules.Event] {
        tick &+= 1
        var inputs: [PlayerID: Rules.Input] = [:]
        var views: [PlayerID: UInt32] = [:]
        inputs.reserveCapacity(players.count)
        views.reserveCapacity(players.count)
        for player in players {
            inputs[player] = clients[player]?.inputs.next()
            views[player] = clients[player]?.viewTick ?? tick
        }
        let events = rules.step(&state, inputs: inputs, views: views, tick: tick)
        history.record(tick: tick, entities: rules.entities(of: state))
        return events
    }

    /// This tick's snapshot for `player`: a delta against its newest acknowledged snapshot when
    /// the shared history still holds it, otherwise full; within ``snapshotBudgetBytes``, nearest
    /// entities first.
    public func snapshot(for player: PlayerID) -> [UInt8]? {
        guard let client = clients[player], let current = history.entities(at: tick) else { return nil }
        let view = client.views[client.ackedSnapshot]
        let baseline = view.flatMap { view -> [EntityState]? in
            guard let world = history.entities(at: client.ackedSnapshot) else { return nil }
            // The client holds everything unless a budgeted snapshot left something out.
            return view.held.count == world.count ? world : world.filter { view.held.contains($0.id) }
        }
        let header = SnapshotCodec.Header(
            tick: tick, baselineTick: baseline == nil ? 0 : client.ackedSnapshot, lastAppliedInput: client.inputs.lastApplied,
            yourEntity: client.entity)
        let me = current.first { $0.id == client.entity }
        let encoded = SnapshotCodec.encode(
            header: header, entities: current, baseline: baseline, staleInBaseline: view?.stale ?? [], budgetBytes: snapshotBudgetBytes
        ) { entity in
            guard let me, entity.id != me.id else { return -1 }
            let dx = Double(entity.x - me.x), dy = Double(entity.y - me.y)
            return (dx * dx + dy * dy).squareRoot()
        }
        clients[player]?.views[tick] = (encoded.held, encoded.stale)
        // Forget the record that just left the shared history (one snapshot per tick).
        clients[player]?.views.removeValue(forKey: tick &- UInt32(history.capacity))
        return encoded.bytes
    }

    public func lastAppliedInput(of player: PlayerID) -> UInt32? { clients[player]?.inputs.lastApplied }

    /// A full snapshot of this tick for spectators (no entity of their own).
    public func spectatorSnapshot() -> [UInt8]? {
        guard let current = history.entities(at: tick) else { return nil }
        return SnapshotCodec.encode(header: .init(tick: tick, baselineTick: 0, lastAppliedInput: 0, yourEntity: 0), entities: current, baseline: nil)
    }

    /// How often the player's input buffer had to repeat an input (starved), dropped stale ones,
    /// or skipped ahead (too many queued).
    public func inputStatistics(of player: PlayerID) -> (repeated: UInt64, stale: UInt64, skipped: UInt64)? {
        clients[player].map { ($0.inputs.repeated, $0.inputs.stale, $0.inputs.skipped) }
    }

    public var scoreboard: [ScoreLine] { rules.scoreboard(of: state) }
    public var isOver: Bool { rules.isOver(state, tick: tick) }
}
