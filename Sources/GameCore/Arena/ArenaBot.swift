import Foundation

/// Scripted but varied play: wander a loop that differs per bot, aim at the nearest player, fire.
public struct ArenaBot: BotBrain {
    public let rules = ArenaRules()

    public init() {}

    public func think(frame: ClientSimulation<ArenaRules>.Frame?, tick: Int, bot: Int) -> ArenaRules.Input {
        frame.map { Self.input(frame: $0, tick: tick, bot: bot) } ?? Self.input(tick: tick, bot: bot)
    }

    /// Between decisions it keeps moving and aiming, and fires only when it decides to.
    public func between(_ last: ArenaRules.Input, tick: Int, bot: Int) -> ArenaRules.Input {
        var input = last
        input.buttons = 0
        return input
    }

    static let moves: [(Int8, Int8)] = [(127, 40), (-30, 127), (-127, -20), (20, -127)]

    /// Without looking: wander, sweep the aim, fire now and then.
    public static func input(tick: Int, bot: Int) -> ArenaRules.Input {
        let phase = (tick / (40 + bot % 30) + bot) % 4
        var input = ArenaRules.Input(moveX: moves[phase].0, moveY: moves[phase].1, aim: UInt16(truncatingIfNeeded: tick * 300 + bot * 7000))
        input.buttons = (tick + bot) % 6 == 0 ? ArenaRules.Input.fireHitscan : ((tick + bot) % 90 == 0 ? ArenaRules.Input.fireProjectile : 0)
        return input
    }

    public static func input(frame: ClientSimulation<ArenaRules>.Frame, tick: Int, bot: Int) -> ArenaRules.Input {
        var input = input(tick: tick, bot: bot)
        input.buttons = 0
        guard let me = frame.local else { return input }
        let targets = frame.remote.filter { $0.kind == .player && $0.flags & 1 == 1 }
        if let nearest = targets.min(by: { hypot(Double($0.x - me.x), Double($0.y - me.y)) < hypot(Double($1.x - me.x), Double($1.y - me.y)) }) {
            input.aim = ArenaRules.aim(fromX: me.x, y: me.y, toX: nearest.x, y: nearest.y)
            input.buttons = (tick + bot) % 6 == 0 ? ArenaRules.Input.fireHitscan : ((tick + bot) % 90 == 0 ? ArenaRules.Input.fireProjectile : 0)
        }
        return input
    }
}

