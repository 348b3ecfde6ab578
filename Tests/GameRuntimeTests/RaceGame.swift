import GameCore
import MatchContract

/// A game written the way a studio would write its own, to show that hosting one takes no edit
/// outside its own file: every player runs along a track, one step per tick the button is held;
/// a point every 100 steps, and the first to the score limit wins.
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

    func step(_ state: inout State, inputs: [PlayerID: Input], views: [PlayerID: UInt32], tick: UInt32) -> [Never] {
        for (player, input) in inputs where input.running { state.runners[player]?.steps += 1 }
        return []
    }

    var idleInput: Input { Input(running: false) }
    func validate(_ input: Input) -> Input? { input }
    func encode(_ input: Input, into writer: inout BitWriter) { writer.write(input.running ? 1 : 0, bits: 1) }
    func decodeInput(from reader: inout BitReader) -> Input? { reader.read(bits: 1).map { Input(running: $0 == 1) } }

    func entities(of state: State) -> [EntityState] {
        state.runners.map { player, runner in entity(player, runner) }.sorted { $0.id < $1.id }
    }

    func playerEntity(_ player: PlayerID, in state: State) -> EntityState? { state.runners[player].map { entity(player, $0) } }

    func predict(_ entity: EntityState, input: Input, settings: MatchSettings) -> EntityState {
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

    private func entity(_ player: PlayerID, _ runner: Runner) -> EntityState {
        EntityState(id: runner.entity, kind: .player, x: runner.steps, y: 0, owner: runner.entity, score: UInt16(clamping: runner.steps / Self.stepsPerPoint))
    }
}
