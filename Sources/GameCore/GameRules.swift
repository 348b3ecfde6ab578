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
    associatedtype Input: Sendable, Equatable
    associatedtype Event: Sendable

    /// A fresh world for a match with these settings and players.
    func initialState(settings: MatchSettings, seed: UInt64) -> State

    /// Adds a player (returns its entity id) or removes one.
    func addPlayer(_ player: PlayerID, name: String, to state: inout State, tick: UInt32) -> EntityID
    func removePlayer(_ player: PlayerID, from state: inout State)

    /// Advances one tick with exactly one input per player (the server repeats the last one when
    /// none arrived). `views` holds, per player, the tick that player was looking at when it
    /// acted, for lag-compensated hit tests.
    func step(_ state: inout State, inputs: [PlayerID: Input], views: [PlayerID: UInt32], tick: UInt32) -> [Event]

    /// The neutral input (no movement, nothing pressed).
    var idleInput: Input { get }
    /// Clamps an input decoded off the wire into the legal range; nil rejects it outright.
    func validate(_ input: Input) -> Input?
    func encode(_ input: Input, into writer: inout BitWriter)
    func decodeInput(from reader: inout BitReader) -> Input?

    /// Every entity, quantised, in a stable order: what snapshots carry.
    func entities(of state: State) -> [EntityState]
    /// The player's own entity state, to compare prediction with the server.
    func playerEntity(_ player: PlayerID, in state: State) -> EntityState?
    /// Advances only a player's own entity by one tick with `input`: the client's prediction.
    /// Must match what `step` does to that entity when nothing else interferes.
    func predict(_ entity: EntityState, input: Input, settings: MatchSettings) -> EntityState

    /// Per-player scores so far (of the players in the state), and whether the match is over.
    /// The server reports these lines as the match's live score and its final results.
    func scoreboard(of state: State) -> [ScoreLine]
    func isOver(_ state: State, tick: UInt32) -> Bool
}

extension GameRules {
    public static var standingsOrder: StandingsOrder { .byScore }
}

public typealias PlayerID = UInt64
public typealias EntityID = UInt16

/// An entity as snapshots carry it: already quantised, so what the server sends is exactly what
/// the client reconstructs.
///
/// Positions and velocities are in world subunits (1/4096 of a unit); `aim` is a 16-bit angle.
public struct EntityState: Sendable, Equatable, Hashable {
    public enum Kind: UInt8, Sendable { case player = 0, projectile = 1 }

    public var id: EntityID
    public var kind: Kind
    public var x: Int32
    public var y: Int32
    public var vx: Int32
    public var vy: Int32
    public var aim: UInt16
    public var health: UInt8
    /// Game-defined bits (alive, firing, ...).
    public var flags: UInt8
    /// The owning player (for player entities: themselves).
    public var owner: UInt16
    public var score: UInt16
    public var kills: UInt16
    public var deaths: UInt16

    public init(id: EntityID, kind: Kind, x: Int32, y: Int32, vx: Int32 = 0, vy: Int32 = 0, aim: UInt16 = 0, health: UInt8 = 0,
                flags: UInt8 = 0, owner: UInt16 = 0, score: UInt16 = 0, kills: UInt16 = 0, deaths: UInt16 = 0) {
        self.id = id
        self.kind = kind
        self.x = x
        self.y = y
        self.vx = vx
        self.vy = vy
        self.aim = aim
        self.health = health
        self.flags = flags
        self.owner = owner
        self.score = score
        self.kills = kills
        self.deaths = deaths
    }
}
