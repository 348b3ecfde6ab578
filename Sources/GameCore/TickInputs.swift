/// One tick's inputs for ``GameRules/step(_:inputs:tick:)``: exactly one per player, in player-id
/// order, each with the tick that player was looking at when it acted (for lag-compensated hit
/// tests). Flat arrays the match fills in place every tick: no dictionary is built per tick.
public struct TickInputs<Input: Sendable>: Sendable {
    /// The players, ascending; ``inputs`` and ``views`` are in the same order.
    public private(set) var players: [PlayerID] = []
    public private(set) var inputs: [Input] = []
    public private(set) var views: [UInt32] = []

    public init() {}

    /// The inputs of `inputs`, with the views of `views` where given, for tests and tools. A
    /// player without a view looks at the newest tick (`UInt32.max`, which rules clamp to the
    /// tick being stepped).
    public init(_ inputs: [PlayerID: Input], views: [PlayerID: UInt32] = [:]) {
        for player in inputs.keys.sorted() {
            if let input = inputs[player] { append(player, input: input, view: views[player] ?? .max) }
        }
    }

    public var count: Int { players.count }

    /// `player`'s input this tick, or nil if it has none (not in the match).
    @inlinable
    public subscript(player: PlayerID) -> Input? { index(of: player).map { inputs[$0] } }

    /// The tick `player` was looking at when it acted, or nil if it has no input this tick.
    @inlinable
    public func view(of player: PlayerID) -> UInt32? { index(of: player).map { views[$0] } }

    /// Where `player` is in ``players`` (a binary search: they are ascending).
    @inlinable
    public func index(of player: PlayerID) -> Int? {
        var low = 0
        var high = players.count
        while low < high {
            let middle = (low + high) / 2
            if players[middle] < player { low = middle + 1 } else { high = middle }
        }
        return low < players.count && players[low] == player ? low : nil
    }

    /// Empties the list, keeping its storage for the next tick.
    public mutating func removeAll() {
        players.removeAll(keepingCapacity: true)
        inputs.removeAll(keepingCapacity: true)
        views.removeAll(keepingCapacity: true)
    }

    /// Adds `player`, which must come after every player already added.
    public mutating func append(_ player: PlayerID, input: Input, view: UInt32) {
        precondition(players.last.map { $0 < player } ?? true, "players are added in ascending order")
        players.append(player)
        inputs.append(input)
        views.append(view)
    }
}
