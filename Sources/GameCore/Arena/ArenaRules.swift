import Foundation
import MatchContract

/// The reference game: a top-down arena. Players accelerate to a top speed, aim, fire hitscan
/// and projectile weapons, take damage, die, respawn after a delay at the spawn point farthest
/// from the living, and score a point per kill. A match ends at the score limit or time limit.
///
/// All simulation is integer arithmetic on subunits (Doubles appear only where a direction is
/// normalised, with IEEE rounding the same everywhere), so client prediction reproduces the
/// server bit for bit.
public struct ArenaRules: GameRules {
    public static let catalogEntry = GameCatalog.Mode(name: "arena", maps: ArenaMap.all.map(\.name))

    public struct Input: Sendable, Equatable {
        /// -127...127 on each axis.
        public var moveX: Int8
        public var moveY: Int8
        /// Aim angle: 0 = +x, 16384 = +y (a quarter turn).
        public var aim: UInt16
        /// Bit 0: fire hitscan. Bit 1: fire a projectile.
        public var buttons: UInt8

        public init(moveX: Int8 = 0, moveY: Int8 = 0, aim: UInt16 = 0, buttons: UInt8 = 0) {
            self.moveX = moveX
            self.moveY = moveY
            self.aim = aim
            self.buttons = buttons
        }

        public static let fireHitscan: UInt8 = 1
        public static let fireProjectile: UInt8 = 2
    }

    public enum Event: Sendable, Equatable {
        case spawned(PlayerID)
        case fired(PlayerID, hitscan: Bool)
        case damaged(victim: PlayerID, by: PlayerID, amount: Int)
        case killed(victim: PlayerID, by: PlayerID)
    }

    struct Player: Sendable {
        var id: PlayerID
        var entity: EntityID
        var name: String
        var x: Int32 = 0
        var y: Int32 = 0
        var vx: Int32 = 0
        var vy: Int32 = 0
        var aim: UInt16 = 0
        var health: Int = 0
        var alive = false
        var respawnTick: UInt32 = 0
        var hitscanReadyTick: UInt32 = 0
        var projectileReadyTick: UInt32 = 0
        var score = 0
        var kills = 0
        var deaths = 0
    }

    struct Projectile: Sendable {
        var entity: EntityID
        var owner: PlayerID
        var ownerEntity: EntityID
        var x: Int32
        var y: Int32
        var vx: Int32
        var vy: Int32
        var expiresTick: UInt32
    }

    /// Where every player was at one tick, in ``State/order``.
    struct PastPositions: Sendable {
        var tick: UInt32 = 0
        var players: [PlayerID] = []
        var places: [(x: Int32, y: Int32, alive: Bool)] = []

        func place(of player: PlayerID) -> (x: Int32, y: Int32, alive: Bool)? {
            players.firstIndex(of: player).map { places[$0] }
        }
    }

    public struct State: Sendable {
        var settings: MatchSettings
        var map: ArenaMap
        var players: [PlayerID: Player] = [:]
        /// Player ids in join order: iteration order is part of determinism.
        var order: [PlayerID] = []
        var projectiles: [Projectile] = []
        var entityIDs = EntityIDAllocator()
        /// Positions of players over the last ticks, for lag-compensated hitscan: a ring whose
        /// slots are refilled in place (no allocation per tick once it is full).
        var history: [PastPositions] = []
        var historyNext = 0
        /// This tick's events, refilled in place every tick (the caller gets them as the result).
        var events: [Event] = []
        var tick: UInt32 = 0
    }

    // Tuning, in units and seconds; converted to subunits per tick at the match's tick rate.
    public static let maxSpeed = 8.0
    public static let acceleration = 60.0
    public static let friction = 40.0
    public static let halfSize: Int32 = ArenaMap.unit * 2 / 5
    public static let maxHealth = 100
    public static let hitscanDamage = 34
    public static let hitscanRange = 30.0
    public static let hitscanCooldown = 0.25
    public static let projectileDamage = 50
    public static let projectileSpeed = 20.0
    public static let projectileLifetime = 2.0
    public static let projectileCooldown = 0.8
    public static let respawnDelay = 3.0
    /// How far back a shot may be judged (lag compensation limit).
    public let maxRewindSeconds: Double

    public init(maxRewindSeconds: Double = 0.2) { self.maxRewindSeconds = maxRewindSeconds }

    struct Tuning {
        var maxSpeed: Int32
        var acceleration: Int32
        var friction: Int32
        var hitscanCooldownTicks: UInt32
        var projectileCooldownTicks: UInt32
        var projectileSpeed: Int32
        var projectileLifetimeTicks: UInt32
        var respawnTicks: UInt32
        var rewindTicks: UInt32

        init(tickRate: Int, maxRewindSeconds: Double) {
            let rate = Double(max(1, tickRate))
            let unit = Double(ArenaMap.unit)
            maxSpeed = Int32((ArenaRules.maxSpeed * unit / rate).rounded())
            acceleration = max(1, Int32((ArenaRules.acceleration * unit / (rate * rate)).rounded()))
            friction = max(1, Int32((ArenaRules.friction * unit / (rate * rate)).rounded()))
            hitscanCooldownTicks = UInt32((ArenaRules.hitscanCooldown * rate).rounded())
            projectileCooldownTicks = UInt32((ArenaRules.projectileCooldown * rate).rounded())
            projectileSpeed = Int32((ArenaRules.projectileSpeed * unit / rate).rounded())
            projectileLifetimeTicks = UInt32((ArenaRules.projectileLifetime * rate).rounded())
            respawnTicks = UInt32((ArenaRules.respawnDelay * rate).rounded())
            rewindTicks = UInt32((maxRewindSeconds * rate).rounded())
        }
    }

    func tuning(_ state: State) -> Tuning { Tuning(tickRate: state.settings.tickRate, maxRewindSeconds: maxRewindSeconds) }

    // MARK: GameRules

    public func initialState(settings: MatchSettings, seed: UInt64) -> State {
        State(settings: settings, map: ArenaMap.named(settings.map))
    }

    public func addPlayer(_ player: PlayerID, name: String, to state: inout State, tick: UInt32) -> EntityID {
        if let existing = state.players[player] { return existing.entity }
        // Players are few (64 at most) and ids 65,535: an urgent id always exists.
        let entity = state.entityIDs.allocate(tick: tick, urgent: true) ?? 0
        state.players[player] = Player(id: player, entity: entity, name: name, respawnTick: tick)
        state.order.append(player)
        return entity
    }

    public func removePlayer(_ player: PlayerID, from state: inout State) {
        if let gone = state.players.removeValue(forKey: player) { state.entityIDs.release(gone.entity, tick: state.tick) }
        state.order.removeAll { $0 == player }
        for projectile in state.projectiles where projectile.owner == player { state.entityIDs.release(projectile.entity, tick: state.tick) }
        state.projectiles.removeAll { $0.owner == player }
    }

    public var idleInput: Input { Input() }

    public func validate(_ input: Input) -> Input? {
        var clean = input
        clean.moveX = max(-127, input.moveX)
        clean.moveY = max(-127, input.moveY)
        guard input.buttons & ~(Input.fireHitscan | Input.fireProjectile) == 0 else { return nil }
        return clean
    }

    public func encode(_ input: Input, into writer: inout BitWriter) {
        writer.write(UInt64(UInt8(bitPattern: input.moveX)), bits: 8)
        writer.write(UInt64(UInt8(bitPattern: input.moveY)), bits: 8)
        writer.write(UInt64(input.aim), bits: 16)
        writer.write(UInt64(input.buttons), bits: 2)
    }

    public func decodeInput(from reader: inout BitReader) -> Input? {
        guard let x = reader.read(bits: 8), let y = reader.read(bits: 8), let aim = reader.read(bits: 16), let buttons = reader.read(bits: 2)
        else { return nil }
        return Input(moveX: Int8(bitPattern: UInt8(x)), moveY: Int8(bitPattern: UInt8(y)), aim: UInt16(aim), buttons: UInt8(buttons))
    }

    public func step(_ state: inout State, inputs: TickInputs<Input>, tick: UInt32) -> [Event] {
        let tuning = tuning(state)
        state.tick = tick
        state.events.removeAll(keepingCapacity: true)
        // Respawns first, so a player can move on the tick they reappear.
        for id in state.order {
            guard var player = state.players[id], !player.alive, tick >= player.respawnTick else { continue }
            let spawn = spawnPoint(for: id, in: state)
            player.x = spawn.0
            player.y = spawn.1
            player.vx = 0
            player.vy = 0
            player.health = Self.maxHealth
            player.alive = true
            state.players[id] = player
            state.events.append(.spawned(id))
        }
        // Movement and aim.
        for id in state.order {
            guard var player = state.players[id], player.alive else { continue }
            let input = inputs[id] ?? idleInput
            var body = ArenaEntity(id: player.entity, kind: .player, x: player.x, y: player.y, vx: player.vx, vy: player.vy, aim: input.aim, flags: 1)
            body = move(body, input: input, tuning: tuning, map: state.map)
            player.x = body.x
            player.y = body.y
            player.vx = body.vx
            player.vy = body.vy
            player.aim = input.aim
            state.players[id] = player
        }
        recordHistory(&state, tick: tick, keep: Int(tuning.rewindTicks) + 2)
        // Weapons.
        for id in state.order {
            guard let player = state.players[id], player.alive else { continue }
            let input = inputs[id] ?? idleInput
            if input.buttons & Input.fireHitscan != 0 && tick >= player.hitscanReadyTick {
                state.players[id]?.hitscanReadyTick = tick + tuning.hitscanCooldownTicks
                state.events.append(.fired(id, hitscan: true))
                let view = max(tick &- tuning.rewindTicks, min(tick, inputs.view(of: id) ?? tick))
                if let victim = hitscanTarget(from: player, in: state, viewTick: view) {
                    damage(victim, by: id, amount: Self.hitscanDamage, in: &state, tick: tick, tuning: tuning)
                }
            }
            if input.buttons & Input.fireProjectile != 0 && tick >= player.projectileReadyTick {
                state.players[id]?.projectileReadyTick = tick + tuning.projectileCooldownTicks
                state.events.append(.fired(id, hitscan: false))
                let (dx, dy) = Self.direction(player.aim)
                // No id free (every one live or resting): the shot fizzles rather than reuse one.
                if let entity = state.entityIDs.allocate(tick: tick) {
                state.projectiles.append(Projectile(
                    entity: entity, owner: id, ownerEntity: player.entity, x: player.x, y: player.y,
                    vx: Int32((dx * Double(tuning.projectileSpeed)).rounded()), vy: Int32((dy * Double(tuning.projectileSpeed)).rounded()),
                    expiresTick: tick + tuning.projectileLifetimeTicks))
                }
            }
        }
        // Projectiles fly, hit walls or players, expire. The survivors are moved up in place
        // (in order), so no array is built per tick.
        var kept = 0
        for index in state.projectiles.indices {
            var projectile = state.projectiles[index]
            projectile.x &+= projectile.vx
            projectile.y &+= projectile.vy
            if tick >= projectile.expiresTick || state.map.walls.contains(where: { $0.contains(x: projectile.x, y: projectile.y) }) {
                state.entityIDs.release(projectile.entity, tick: tick)
                continue
            }
            let hit = state.order.first { id in
                guard id != projectile.owner, let target = state.players[id], target.alive else { return false }
                return abs(target.x - projectile.x) <= Self.halfSize && abs(target.y - projectile.y) <= Self.halfSize
            }
            if let hit {
                damage(hit, by: projectile.owner, amount: Self.projectileDamage, in: &state, tick: tick, tuning: tuning)
                state.entityIDs.release(projectile.entity, tick: tick)
                continue
            }
            state.projectiles[kept] = projectile
            kept += 1
        }
        state.projectiles.removeLast(state.projectiles.count - kept)
        return state.events
    }

    public func entities(of state: State, into list: inout [ArenaEntity]) {
        list.reserveCapacity(state.players.count + state.projectiles.count)
        for id in state.order {
            guard let player = state.players[id] else { continue }
            list.append(playerState(player))
        }
        for projectile in state.projectiles {
            list.append(ArenaEntity(id: projectile.entity, kind: .projectile, x: projectile.x, y: projectile.y, vx: projectile.vx, vy: projectile.vy, owner: projectile.ownerEntity))
        }
        // Insertion sort in place: the list is short and nearly in order from tick to tick, and
        // the library's sort would take a scratch buffer of its own.
        list.withUnsafeMutableBufferPointer { entities in
            guard entities.count > 1 else { return }
            for index in 1..<entities.count {
                let entity = entities[index]
                var slot = index
                while slot > 0 && entities[slot - 1].id > entity.id {
                    entities[slot] = entities[slot - 1]
                    slot -= 1
                }
                entities[slot] = entity
            }
        }
    }

    public func playerEntity(_ player: PlayerID, in state: State) -> ArenaEntity? {
        state.players[player].map(playerState)
    }

    func playerState(_ player: Player) -> ArenaEntity {
        ArenaEntity(
            id: player.entity, kind: .player, x: player.x, y: player.y, vx: player.vx, vy: player.vy, aim: player.aim,
            health: UInt8(clamping: player.health), flags: player.alive ? 1 : 0, owner: player.entity,
            score: UInt16(clamping: player.score), kills: UInt16(clamping: player.kills), deaths: UInt16(clamping: player.deaths))
    }

    public func predict(_ entity: ArenaEntity, input: Input, settings: MatchSettings) -> ArenaEntity {
        guard entity.flags & 1 != 0 else { return entity }
        let map = ArenaMap.named(settings.map)
        var next = move(entity, input: input, tuning: Tuning(tickRate: settings.tickRate, maxRewindSeconds: maxRewindSeconds), map: map)
        next.aim = input.aim
        return next
    }

    public func scoreboard(of state: State) -> [ScoreLine] {
        let lines: [ScoreLine] = state.order.compactMap { id in
            guard let player = state.players[id] else { return nil }
            return ScoreLine(playerID: id, displayName: player.name, score: player.score, kills: player.kills, deaths: player.deaths)
        }
        return lines.sorted { $0.score != $1.score ? $0.score > $1.score : $0.playerID < $1.playerID }
    }

    public func isOver(_ state: State, tick: UInt32) -> Bool {
        if UInt64(tick) >= UInt64(state.settings.timeLimitSeconds) * UInt64(state.settings.tickRate) { return true }
        return state.players.values.contains { $0.score >= state.settings.scoreLimit }
    }

    // MARK: Mechanics

    /// Accelerates toward the input direction (or brakes without input), then moves one axis at
    /// a time, stopping at walls.
    func move(_ entity: ArenaEntity, input: Input, tuning: Tuning, map: ArenaMap) -> ArenaEntity {
        var next = entity
        let mx = Double(input.moveX) / 127
        let my = Double(input.moveY) / 127
        let length = (mx * mx + my * my).squareRoot()
        if length > 0.001 {
            let scale = length > 1 ? 1 / length : 1
            let targetX = Int32((mx * scale * Double(tuning.maxSpeed)).rounded())
            let targetY = Int32((my * scale * Double(tuning.maxSpeed)).rounded())
            next.vx += max(-tuning.acceleration, min(tuning.acceleration, targetX - next.vx))
            next.vy += max(-tuning.acceleration, min(tuning.acceleration, targetY - next.vy))
        } else {
            next.vx -= max(-tuning.friction, min(tuning.friction, next.vx))
            next.vy -= max(-tuning.friction, min(tuning.friction, next.vy))
        }
        next.x += next.vx
        for wall in map.walls where wall.overlaps(Self.bounds(x: next.x, y: next.y)) {
            next.x = next.vx > 0 ? wall.minX - Self.halfSize : wall.maxX + Self.halfSize
            next.vx = 0
        }
        next.y += next.vy
        for wall in map.walls where wall.overlaps(Self.bounds(x: next.x, y: next.y)) {
            next.y = next.vy > 0 ? wall.minY - Self.halfSize : wall.maxY + Self.halfSize
            next.vy = 0
        }
        return next
    }

    static func bounds(x: Int32, y: Int32) -> Box {
        Box(minX: x - halfSize, minY: y - halfSize, maxX: x + halfSize, maxY: y + halfSize)
    }

    public static func direction(_ aim: UInt16) -> (Double, Double) {
        let angle = Double(aim) / 65536 * 2 * Double.pi
        return (cos(angle), sin(angle))
    }

    /// The aim angle from one point toward another.
    public static func aim(fromX x0: Int32, y y0: Int32, toX x1: Int32, y y1: Int32) -> UInt16 {
        var angle = atan2(Double(y1 - y0), Double(x1 - x0))
        if angle < 0 { angle += 2 * Double.pi }
        return UInt16(truncatingIfNeeded: Int((angle / (2 * Double.pi) * 65536).rounded()) & 0xFFFF)
    }

    func recordHistory(_ state: inout State, tick: UInt32, keep: Int) {
        if state.history.count > keep {
            state.history.removeAll()
            state.historyNext = 0
        }
        if state.history.count < keep {
            state.history.append(PastPositions())
            state.historyNext = state.history.count - 1
        }
        let slot = state.historyNext
        state.history[slot].tick = tick
        state.history[slot].players.removeAll(keepingCapacity: true)
        state.history[slot].places.removeAll(keepingCapacity: true)
        for id in state.order {
            guard let player = state.players[id] else { continue }
            state.history[slot].players.append(id)
            state.history[slot].places.append((player.x, player.y, player.alive))
        }
        state.historyNext = (slot + 1) % keep
    }

    /// The first living player the shooter's ray meets before any wall, judged against where
    /// targets were at `viewTick` (what the shooter saw).
    func hitscanTarget(from shooter: Player, in state: State, viewTick: UInt32) -> PlayerID? {
        let (dx, dy) = Self.direction(shooter.aim)
        let ox = Double(shooter.x), oy = Double(shooter.y)
        let range = Self.hitscanRange * Double(ArenaMap.unit)
        var nearest = range
        for wall in state.map.walls {
            if let t = Self.rayBox(ox, oy, dx, dy, wall), t < nearest { nearest = t }
        }
        // The newest recorded tick the shooter could have seen.
        var past: PastPositions?
        for record in state.history where record.tick <= viewTick && record.tick >= (past?.tick ?? 0) { past = record }
        var hit: PlayerID?
        for id in state.order where id != shooter.id {
            guard let target = state.players[id], target.alive else { continue }
            let (x, y, alive) = past?.place(of: id) ?? (target.x, target.y, target.alive)
            guard alive else { continue }
            if let t = Self.rayBox(ox, oy, dx, dy, Self.bounds(x: x, y: y)), t < nearest {
                nearest = t
                hit = id
            }
        }
        return hit
    }

    /// Distance along the ray to the box, if it is hit in front of the origin (slab method).
    static func rayBox(_ ox: Double, _ oy: Double, _ dx: Double, _ dy: Double, _ box: Box) -> Double? {
        var tMin = 0.0
        var tMax = Double.infinity
        for (origin, direction, low, high) in [(ox, dx, Double(box.minX), Double(box.maxX)), (oy, dy, Double(box.minY), Double(box.maxY))] {
            if abs(direction) < 1e-12 {
                if origin < low || origin > high { return nil }
            } else {
                var t1 = (low - origin) / direction
                var t2 = (high - origin) / direction
                if t1 > t2 { swap(&t1, &t2) }
                tMin = max(tMin, t1)
                tMax = min(tMax, t2)
                if tMin > tMax { return nil }
            }
        }
        return tMin
    }

    /// Applies a hit, adding its events to the tick's.
    func damage(_ victim: PlayerID, by attacker: PlayerID, amount: Int, in state: inout State, tick: UInt32, tuning: Tuning) {
        guard var target = state.players[victim], target.alive else { return }
        target.health -= amount
        state.events.append(.damaged(victim: victim, by: attacker, amount: amount))
        if target.health <= 0 {
            target.health = 0
            target.alive = false
            target.deaths += 1
            target.respawnTick = tick + tuning.respawnTicks
            state.events.append(.killed(victim: victim, by: attacker))
            if attacker != victim {
                state.players[attacker]?.score += 1
                state.players[attacker]?.kills += 1
            }
        }
        state.players[victim] = target
    }

    /// The spawn point farthest from every living player (ties: the first listed).
    func spawnPoint(for player: PlayerID, in state: State) -> (Int32, Int32) {
        let living = state.players.values.filter { $0.alive && $0.id != player }
        var best = state.map.spawnPoints[0]
        var bestDistance = -1.0
        for spawn in state.map.spawnPoints {
            let distance = living.map { hypot(Double($0.x - spawn.0), Double($0.y - spawn.1)) }.min() ?? Double.greatestFiniteMagnitude
            if distance > bestDistance {
                bestDistance = distance
                best = spawn
            }
        }
        return best
    }
}
