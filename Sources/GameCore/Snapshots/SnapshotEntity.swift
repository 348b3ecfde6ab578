/// An entity as a game's snapshots carry it: already quantised, so what the server sends is
/// exactly what the client reconstructs. The game defines its fields and how they are written;
/// the snapshot machinery (history, baselines, deltas, the byte budget, interpolation) is the
/// same for every game. The arena's is ``ArenaEntity``.
///
/// Positions and velocities are what the machinery reads: the nearest entities go first when a
/// snapshot is over its budget, and the client interpolates, extrapolates and smooths positions.
/// A game without a world position leaves them 0.
public protocol SnapshotEntity: Sendable, Equatable {
    var id: EntityID { get }
    /// The game's kind of entity, 0...3 (two bits on the wire). An entity whose kind changes is
    /// sent in full, never as a delta.
    var wireKind: UInt8 { get }
    /// World position and velocity, in the game's subunits per tick.
    var x: Int32 { get set }
    var y: Int32 { get set }
    var vx: Int32 { get }
    var vy: Int32 { get }

    /// Bits ``writeFull(into:)`` writes (the id and kind are written around it).
    static var fullBits: Int { get }
    func writeFull(into writer: inout BitWriter)
    static func readFull(id: EntityID, wireKind: UInt8, from reader: inout BitReader) -> Self?
    /// Bits ``writeDelta(from:into:)`` would write, without writing.
    func deltaBits(from old: Self) -> Int
    func writeDelta(from old: Self, into writer: inout BitWriter)
    static func readDelta(from old: Self, reader: inout BitReader) -> Self?
    /// Whether the client may interpolate from `old` to this (false: it jumped, e.g. respawned).
    func interpolates(from old: Self) -> Bool
}

extension SnapshotEntity {
    public func interpolates(from old: Self) -> Bool { true }
}
