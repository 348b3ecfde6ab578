import MatchContract

/// The seam a game plugs into. Arbiter's match server, snapshots, client prediction and bots are
/// generic over it; the reference implementation is ``ArenaRules``.
///
/// Everything here must be deterministic: the same state, inputs and tick give the same result
/// on every machine, because the client predicts its own player with the very same `step`.
public protocol GameRules: Sendable {
    /// The mode name this game is hosted under and its maps (the first is the default): the
    /// control port accepts matches for it with these maps only.
    static var catalogEntry: GameCatalog.Mode { get }
    /// How final standings are ordered (by default the highest score places first).
    static var standingsOrder: StandingsOrder { get }

    associatedtype State: Sendable
    /// What snapshots carry of the world: the game's own fields and their codec.
    associatedtype Entity: SnapshotEntity
    associatedtype Input: Sendable, Equatable
    associatedtype Event: Sendable

    /// A fresh world for a match with these settings and players.
    func initialState(settings: MatchSettings, seed: UInt64) -> State

    /// Adds a player (returns its entity id) or removes one.
    func addPlayer(_ player: PlayerID, name: String, to state: inout State, tick: UInt32) -> EntityID
    func removePlayer(_ player: PlayerID, from state: inout State)

    /// Advances one tick with exactly one input per player (the server repeats the last one when
    /// none arrived), in player order; each input comes with the tick its player was looking at
    /// when it acted (``TickInputs/view(of:)``), for lag-compensated hit tests.
    func step(_ state: inout State, inputs: TickInputs<Input>, tick: UInt32) -> [Event]

    /// The neutral input (no movement, nothing pressed).
    var idleInput: Input { get }
    /// Clamps an input decoded off the wire into the legal range; nil rejects it outright.
    func validate(_ input: Input) -> Input?
    func encode(_ input: Input, into writer: inout BitWriter)
    func decodeInput(from reader: inout BitReader) -> Input?

    /// Appends every entity, quantised, sorted by id, to `list`: what snapshots carry. `list`
    /// arrives empty, with the storage it had at the last tick (so filling it allocates nothing
    /// once the match has warmed up).
    func entities(of state: State, into list: inout [Entity])
    /// The player's own entity state, to compare prediction with the server.
    func playerEntity(_ player: PlayerID, in state: State) -> Entity?
    /// Advances only a player's own entity by one tick with `input`: the client's prediction.
    /// Must match what `step` does to that entity when nothing else interferes.
    func predict(_ entity: Entity, input: Input, settings: MatchSettings) -> Entity

    /// Per-player scores so far (of the players in the state), and whether the match is over.
    /// The server reports these lines as the match's live score and its final results.
    func scoreboard(of state: State) -> [ScoreLine]
    func isOver(_ state: State, tick: UInt32) -> Bool
}

extension GameRules {
    public static var standingsOrder: StandingsOrder { .byScore }

    /// Every entity, sorted by id, as a new array (for tests and tools; the server fills its
    /// history in place with ``entities(of:into:)``).
    public func entities(of state: State) -> [Entity] {
        var list: [Entity] = []
        entities(of: state, into: &list)
        return list
    }
}

public typealias PlayerID = UInt64
public typealias EntityID = UInt16
