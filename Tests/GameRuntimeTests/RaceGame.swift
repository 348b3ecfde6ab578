import GameCore
import MatchContract

/// A game written the way a studio would write its own, to show that hosting one takes no edit
/// outside its own file: every player runs along a track, one step per tick the button is held;
/// a point (a lap) every 100 steps, and the first to the score limit wins. Its snapshots carry
/// fields of its own (``RunnerEntity``).
struct RaceRules: GameRules {
    static let catalogEntry = GameCatalog.Mode(name: "race", maps: ["track"])

    struct Runner: Sendable {
        var entity: EntityID
        var name: String
        var steps: Int32
    }

    struct State: Sendable {
        var runners: [PlayerID: Runner] = [:]
        var ids = EntityIDAllocator()
        var scoreLimit: Int
    }

    /// Held or not.
    struct Input: Sendable, Equatable {
        var running: Bool
    }

    typealias Event = Never

    /// The race's own snapshot fields: how far the runner is and its lap count; nothing of the
    /// arena's. Steps travel on `x` (so the client interpolates them); a delta sends the steps
    /// gained (one byte at 60 Hz) and the laps only when they change.
    struct RunnerEntity: SnapshotEntity {
        var id: EntityID
        var x: Int32
        var laps: UInt8
        var y: Int32 { get { 0 } set {} }
        var vx: Int32 { 0 }
        var vy: Int32 { 0 }
        var wireKind: UInt8 { 0 }

        static let fullBits = 32 + 8
        func writeFull(into writer: inout BitWriter) {
            writer.write(UInt64(UInt32(bitPattern: x)), bits: 32)
            writer.write(UInt64(laps), bits: 8)
        }
        static func readFull(id: EntityID, wireKind: UInt8, from reader: inout BitReader) -> Self? {
            guard wireKind == 0, let x = reader.read(bits: 32), let laps = reader.read(bits: 8) else { return nil }
            return Self(id: id, x: Int32(bitPattern: UInt32(x)), laps: UInt8(laps))
        }
        func deltaBits(from old: Self) -> Int { 1 + 8 + (laps != old.laps ? 8 : 0) }
        func writeDelta(from old: Self, into writer: inout BitWriter) {
            writer.write(UInt64(UInt8(truncatingIfNeeded: x &- old.x)), bits: 8)
            writer.write(laps != old.laps)
            if laps != old.laps { writer.write(UInt64(laps), bits: 8) }
        }
        static func readDelta(from old: Self, reader: inout BitReader) -> Self? {
            guard let gained = reader.read(bits: 8), let lapChanged = reader.readBool() else { return nil }
            var entity = old
            entity.x = old.x &+ Int32(gained)
            if lapChanged {
                guard let laps = reader.read(bits: 8) else { return nil }
                entity.laps = UInt8(laps)
            }
            return entity
        }
    }

    static let stepsPerPoint: Int32 = 100

    func initialState(settings: MatchSettings, seed: UInt64) -> State { State(scoreLimit: settings.scoreLimit) }

    func addPlayer(_ player: PlayerID, name: String, to state: inout State, tick: UInt32) -> EntityID {
        if let runner = state.runners[player] { return runner.entity }
        let entity = state.ids.allocate(tick: tick, urgent: true) ?? 0
        state.runners[player] = Runner(entity: entity, name: name, steps: 0)
        return entity
    }

    func removePlayer(_ player: PlayerID, from state: inout State) {
        state.runners.removeValue(forKey: player)
    }

    func step(_ state: inout State, inputs: TickInputs<Input>, tick: UInt32) -> [Never] {
        for (player, input) in zip(inputs.players, inputs.inputs) where input.running { state.runners[player]?.steps += 1 }
        return []
    }

    var idleInput: Input { Input(running: false) }
    func validate(_ input: Input) -> Input? { input }
    func encode(_ input: Input, into writer: inout BitWriter) { writer.write(input.running ? 1 : 0, bits: 1) }
    func decodeInput(from reader: inout BitReader) -> Input? { reader.read(bits: 1).map { Input(running: $0 == 1) } }

    func entities(of state: State, into list: inout [RunnerEntity]) {
        list.append(contentsOf: state.runners.map { player, runner in entity(player, runner) }.sorted { $0.id < $1.id })
    }

    func playerEntity(_ player: PlayerID, in state: State) -> RunnerEntity? { state.runners[player].map { entity(player, $0) } }

    func predict(_ entity: RunnerEntity, input: Input, settings: MatchSettings) -> RunnerEntity {
        var next = entity
        if input.running { next.x += 1 }
        return next
    }

    func scoreboard(of state: State) -> [ScoreLine] {
        state.runners.map { player, runner in
            ScoreLine(playerID: player, displayName: runner.name, score: Int(runner.steps / Self.stepsPerPoint))
        }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.playerID < $1.playerID }
    }

    func isOver(_ state: State, tick: UInt32) -> Bool {
        state.runners.values.contains { Int($0.steps / Self.stepsPerPoint) >= state.scoreLimit }
    }

    private func entity(_ player: PlayerID, _ runner: Runner) -> RunnerEntity {
        RunnerEntity(id: runner.entity, x: runner.steps, laps: UInt8(clamping: runner.steps / Self.stepsPerPoint))
    }
}
