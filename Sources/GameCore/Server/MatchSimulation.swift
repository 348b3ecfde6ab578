import MatchContract
/// One match on the server, sans-IO: players join and leave, their input messages arrive, and
/// every tick the world advances by exactly one step; each client then gets a snapshot encoded
/// against the newest snapshot it acknowledged, from one world history shared by all clients.
public final class MatchSimulation<Rules: GameRules> {
    public let rules: Rules
    public let settings: MatchSettings
    public private(set) var state: Rules.State
    public private(set) var tick: UInt32 = 0
    public private(set) var history: WorldHistory<Rules.Entity>

    /// What a client holds after one sent snapshot: the entities (sorted ids) and which of them
    /// are stale (deferred for the byte budget). This is what makes a budgeted snapshot a valid
    /// baseline: the encoder works from the client's view, not the world's.
    struct ClientView {
        var tick: UInt32 = 0
        /// The client holds every entity of that tick's world, fresh: the usual case, kept
        /// without a list (64 views per client would otherwise each hold a copy of the ids).
        var holdsAll = false
        var held: [EntityID] = []
        var stale: [EntityID] = []
    }

    /// A class, so per-tick updates happen in place (no copy of its views).
    final class Client {
        let entity: EntityID
        /// One view per tick of the shared history, at `tick % capacity`; buffers are reused.
        var views: [ClientView]
        var inputs: InputBuffer<Rules.Input>
        var ackedSnapshot: UInt32 = 0
        var viewTick: UInt32 = 0
        var malformedMessages: UInt64 = 0

        init(entity: EntityID, inputs: InputBuffer<Rules.Input>, historyTicks: Int) {
            self.entity = entity
            self.inputs = inputs
            views = [ClientView](repeating: ClientView(), count: historyTicks)
        }
    }

    private var clients: [PlayerID: Client] = [:]
    /// Player ids in order, kept as players join and leave (not re-sorted every tick), and
    /// their clients in the same order (no lookup per player per tick).
    public private(set) var players: [PlayerID] = []
    private var clientsInOrder: [Client] = []
    public private(set) var malformedMessages: UInt64 = 0

    /// Most bytes one snapshot may take; entities past it are prioritised by distance to the
    /// client's own player and sent in later snapshots. Fits one packet by default.
    public var snapshotBudgetBytes: Int = 1100
    private let encoder = SnapshotEncoder<Rules.Entity>()
    private var baselineScratch: [Rules.Entity] = []
    private var stepInputs = TickInputs<Rules.Input>()
    /// The inputs of the message being received, reused from message to message.
    private var decodedInputs: [Rules.Input] = []

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
        let client = Client(entity: entity, inputs: InputBuffer(idle: rules.idleInput), historyTicks: history.capacity)
        clients[player] = client
        let position = players.firstIndex { $0 > player } ?? players.endIndex
        players.insert(player, at: position)
        clientsInOrder.insert(client, at: position)
        return entity
    }

    public func leave(_ player: PlayerID) {
        clients.removeValue(forKey: player)
        if let position = players.firstIndex(of: player) {
            players.remove(at: position)
            clientsInOrder.remove(at: position)
        }
        rules.removePlayer(player, from: &state)
    }

    /// An input message from `player`. Malformed ones are counted and dropped.
    public func receive(_ message: [UInt8], from player: PlayerID) {
        guard let client = clients[player] else { return }
        guard let decoded = InputMessage<Rules.Input>.decode(message, rules: rules, into: &decodedInputs) else {
            malformedMessages &+= 1
            client.malformedMessages &+= 1
            return
        }
        client.inputs.receive(newestSequence: decoded.newestSequence, inputs: decodedInputs)
        // Acknowledgements only move forward, and only to snapshots that exist.
        if decoded.ackedSnapshot <= tick, decoded.ackedSnapshot > client.ackedSnapshot {
            client.ackedSnapshot = decoded.ackedSnapshot
        }
        client.viewTick = min(decoded.viewTick, tick)
    }

    /// Advances one tick. Returns the game's events.
    @discardableResult
    public func step() -> [Rules.Event] {
        tick &+= 1
        // Reused from tick to tick (emptied, capacity kept).
        stepInputs.removeAll()
        for (player, client) in zip(players, clientsInOrder) {
            stepInputs.append(player, input: client.inputs.next(), view: client.viewTick)
        }
        let events = rules.step(&state, inputs: stepInputs, tick: tick)
        let (rules, state) = (self.rules, self.state)
        history.record(tick: tick) { rules.entities(of: state, into: &$0) }
        return events
    }

    /// This tick's snapshot for `player`: a delta against its newest acknowledged snapshot when
    /// the shared history still holds it, otherwise full; within ``snapshotBudgetBytes``, nearest
    /// entities first.
    public func snapshot(for player: PlayerID) -> [UInt8]? {
        guard let client = clients[player], let current = history.entities(at: tick) else { return nil }
        let capacity = client.views.count
        let acked = client.ackedSnapshot
        let ackedSlot = Int(acked % UInt32(capacity))
        let hasView = acked != 0 && client.views[ackedSlot].tick == acked
        var baseline: [Rules.Entity]?
        if hasView, let world = history.entities(at: acked) {
            let held = client.views[ackedSlot].held
            // The client holds everything unless a budgeted snapshot left something out.
            if client.views[ackedSlot].holdsAll || held.count == world.count {
                baseline = world
            } else {
                baselineScratch.removeAll(keepingCapacity: true)
                var cursor = 0
                for entity in world {
                    while cursor < held.count && held[cursor] < entity.id { cursor += 1 }
                    if cursor < held.count && held[cursor] == entity.id { baselineScratch.append(entity) }
                }
                baseline = baselineScratch
            }
        }
        let header = SnapshotCodec.Header(
            tick: tick, baselineTick: baseline == nil ? 0 : acked, lastAppliedInput: client.inputs.lastApplied,
            yourEntity: client.entity)
        let me = current.first { $0.id == client.entity }
        let bytes = encoder.encode(
            header: header, entities: current, baseline: baseline, staleInBaseline: hasView ? client.views[ackedSlot].stale : [],
            budgetBytes: snapshotBudgetBytes
        ) { entity in
            guard let me, entity.id != me.id else { return -1 }
            let dx = Double(entity.x - me.x), dy = Double(entity.y - me.y)
            return (dx * dx + dy * dy).squareRoot()
        }
        baseline = nil
        // This tick's slot replaces the record that just left the shared history.
        let slot = Int(tick % UInt32(capacity))
        client.views[slot].tick = tick
        // `held` is a subset of this tick's entities: as many means all of them.
        let holdsAll = encoder.stale.isEmpty && encoder.heldCount == current.count
        client.views[slot].holdsAll = holdsAll
        client.views[slot].held.removeAll(keepingCapacity: !holdsAll)
        client.views[slot].stale.removeAll(keepingCapacity: !holdsAll)
        if !holdsAll {
            client.views[slot].held.append(contentsOf: encoder.held)
            client.views[slot].stale.append(contentsOf: encoder.stale)
        }
        return bytes
    }

    public func lastAppliedInput(of player: PlayerID) -> UInt32? { clients[player]?.inputs.lastApplied }

    /// A full snapshot of this tick for spectators (no entity of their own).
    public func spectatorSnapshot() -> [UInt8]? {
        guard let current = history.entities(at: tick) else { return nil }
        return encoder.encode(
            header: .init(tick: tick, baselineTick: 0, lastAppliedInput: 0, yourEntity: 0), entities: current, baseline: nil,
            staleInBaseline: [], budgetBytes: nil, priority: { _ in 0 })
    }

    /// How often the player's input buffer had to repeat an input (starved), dropped stale ones,
    /// or skipped ahead (too many queued).
    public func inputStatistics(of player: PlayerID) -> (repeated: UInt64, stale: UInt64, skipped: UInt64)? {
        clients[player].map { ($0.inputs.repeated, $0.inputs.stale, $0.inputs.skipped) }
    }

    public var scoreboard: [ScoreLine] { rules.scoreboard(of: state) }
    public var isOver: Bool { rules.isOver(state, tick: tick) }
}
