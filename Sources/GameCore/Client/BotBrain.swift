/// How a bot plays a game: the bot swarm (and `arbiter play --bot`) asks it for each tick's
/// input. A game brings its own; ``ArenaBot`` plays the arena.
public protocol BotBrain: Sendable {
    associatedtype Rules: GameRules
    var rules: Rules { get }

    /// A fresh decision. `frame` is what the bot's client shows; nil for a bot that skips the
    /// client-side rendering work (it plays from its own script).
    func think(frame: ClientSimulation<Rules>.Frame?, tick: Int, bot: Int) -> Rules.Input

    /// The input for a tick between decisions (bots re-think every few ticks, as a player's
    /// reactions would): by default the last decision again.
    func between(_ last: Rules.Input, tick: Int, bot: Int) -> Rules.Input
}

extension BotBrain {
    public func between(_ last: Rules.Input, tick: Int, bot: Int) -> Rules.Input { last }
}
