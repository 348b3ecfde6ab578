@testable import GameCore
import MatchContract
import NetProtocol
import Testing

typealias Input = ArenaRules.Input

/// Varied scripted inputs: moving, turning, firing.
func scriptedInput(player: PlayerID, tick: Int, random: inout SeededRandomSource) -> Input {
    let phase = (tick / 40 + Int(player)) % 4
    let moves: [(Int8, Int8)] = [(127, 0), (0, 127), (-127, 0), (0, -127)]
    let buttons: UInt8 = random.next() % 7 == 0 ? Input.fireHitscan : (random.next() % 13 == 0 ? Input.fireProjectile : 0)
    return Input(moveX: moves[phase].0, moveY: moves[phase].1, aim: UInt16(truncatingIfNeeded: tick * 977 + Int(player) * 9000), buttons: buttons)
}

func worldHash(_ entities: [ArenaEntity]) -> Int {
    var hasher = Hasher()
    for entity in entities { hasher.combine(entity) }
    return hasher.finalize()
}

@Suite struct SimulationTests {
    let rules = ArenaRules()

    @Test func theSameSeedAndInputsGiveTheSameWorldEveryTick() {
        let settings = MatchSettings(maxPlayers: 8, tickRate: 60)
        var hashes: [[Int]] = []
        for _ in 0..<2 {
            var state = rules.initialState(settings: settings, seed: 7)
            var random = SeededRandomSource(seed: 7)
            for player in PlayerID(1)...6 { _ = rules.addPlayer(player, name: "p\(player)", to: &state, tick: 0) }
            var run: [Int] = []
            for tick in 1...1200 {
                var inputs: [PlayerID: Input] = [:]
                for player in PlayerID(1)...6 { inputs[player] = scriptedInput(player: player, tick: tick, random: &random) }
                _ = rules.step(&state, inputs: TickInputs(inputs, views: [:]), tick: UInt32(tick))
                run.append(worldHash(rules.entities(of: state)))
            }
            hashes.append(run)
        }
        #expect(hashes[0] == hashes[1])
        #expect(Set(hashes[0]).count > 1000)
    }

    @Test func killsScoreAndRespawnsHappen() {
        let settings = MatchSettings(maxPlayers: 2, tickRate: 60, scoreLimit: 3, map: "empty")
        var state = rules.initialState(settings: settings, seed: 1)
        _ = rules.addPlayer(1, name: "a", to: &state, tick: 0)
        _ = rules.addPlayer(2, name: "b", to: &state, tick: 0)
        var events: [ArenaRules.Event] = []
        var tick: UInt32 = 0
        while !rules.isOver(state, tick: tick) && tick < 60 * 120 {
            tick += 1
            // Player 1 always aims at player 2 and fires; player 2 stands still.
            let shooter = rules.playerEntity(1, in: state)
            let target = rules.playerEntity(2, in: state)
            var input = Input(buttons: Input.fireHitscan)
            if let shooter, let target {
                input.aim = ArenaRules.aim(fromX: shooter.x, y: shooter.y, toX: target.x, y: target.y)
                // Close in until well within range.
                if abs(target.x - shooter.x) > 10 * ArenaMap.unit { input.moveX = target.x > shooter.x ? 127 : -127 }
            }
            events += rules.step(&state, inputs: TickInputs([1: input], views: [:]), tick: tick)
        }
        #expect(rules.isOver(state, tick: tick))
        #expect(rules.scoreboard(of: state).first == ScoreLine(playerID: 1, displayName: "a", score: 3, kills: 3, deaths: 0))
        #expect(events.filter { if case .spawned(2) = $0 { return true } else { return false } }.count == 3)
    }
}

@Suite struct SnapshotTests {
    func randomWorld(_ random: inout SeededRandomSource, ids: [EntityID]) -> [ArenaEntity] {
        ids.map { id in
            ArenaEntity(
                id: id, kind: random.next() % 3 == 0 ? .projectile : .player,
                x: Int32(truncatingIfNeeded: Int64(random.next() % 400_000) - 100_000), y: Int32(random.next() % 200_000),
                vx: Int32(truncatingIfNeeded: Int64(random.next() % 60_000) - 30_000), vy: Int32(truncatingIfNeeded: Int64(random.next() % 60_000) - 30_000),
                aim: UInt16(truncatingIfNeeded: random.next()), health: UInt8(random.next() % 101), flags: UInt8(random.next() % 2),
                owner: UInt16(truncatingIfNeeded: random.next()), score: UInt16(random.next() % 50), kills: UInt16(random.next() % 50), deaths: UInt16(random.next() % 50))
        }
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func deltasRoundTripThroughCreationRemovalAndChange(seed: UInt64) throws {
        var random = SeededRandomSource(seed: seed)
        for _ in 0..<300 {
            let baseIDs = (1...40).map { EntityID($0) }.filter { _ in random.next() % 3 != 0 }
            var baseline = randomWorld(&random, ids: baseIDs)
            var current: [ArenaEntity] = []
            for entity in baseline where random.next() % 5 != 0 {
                var changed = entity
                switch random.next() % 4 {
                case 0: changed.x &+= Int32(random.next() % 100) - 50  // a small move
                case 1: changed.x = Int32(random.next() % 300_000)  // a jump
                case 2: changed.health = UInt8(random.next() % 101); changed.score &+= 1
                default: break  // unchanged
                }
                current.append(changed)
            }
            current += randomWorld(&random, ids: (41...45).map { EntityID($0) }.filter { _ in random.next() % 2 == 0 })
            current.sort { $0.id < $1.id }
            baseline.sort { $0.id < $1.id }
            let header = SnapshotCodec.Header(tick: 10, baselineTick: 9, lastAppliedInput: 5, yourEntity: 3)
            let bytes = SnapshotCodec.encode(header: header, entities: current, baseline: baseline)
            let (decodedHeader, decoded) = try SnapshotCodec.decode(bytes) { $0 == 9 ? baseline : nil }
            #expect(decodedHeader == header)
            #expect(decoded == current)
            let full = SnapshotCodec.encode(header: .init(tick: 10, baselineTick: 0, lastAppliedInput: 5, yourEntity: 3), entities: current, baseline: nil)
            #expect(try SnapshotCodec.decode(full) { _ in nil }.1 == current)
            #expect(bytes.count <= full.count)
        }
    }

    @Test func deltaCostsMatchWhatIsWritten() {
        var random = SeededRandomSource(seed: 11)
        for _ in 0..<2000 {
            let old = randomWorld(&random, ids: [1])[0]
            var new = randomWorld(&random, ids: [1])[0]
            new.kind = old.kind
            if random.next() % 2 == 0 { new.x = old.x &+ Int32(random.next() % 300) - 150 }
            if random.next() % 2 == 0 { new.aim = old.aim &+ UInt16(random.next() % 600) }
            var writer = BitWriter()
            new.writeDelta(from: old, into: &writer)
            #expect(new.deltaBits(from: old) == writer.bitCount)
        }
    }

    @Test func aMissingBaselineOrHostileBytesAreTypedErrors() {
        let entities = [ArenaEntity(id: 1, kind: .player, x: 5, y: 6)]
        let bytes = SnapshotCodec.encode(header: .init(tick: 3, baselineTick: 2, lastAppliedInput: 0, yourEntity: 1), entities: entities, baseline: entities)
        #expect(throws: SnapshotCodec.DecodeError.missingBaseline(2)) { try SnapshotCodec.decode(bytes) { _ -> [ArenaEntity]? in nil } }
        var random = SeededRandomSource(seed: 5)
        for length in 0..<200 {
            var junk = [UInt8](repeating: 0, count: length)
            junk.withUnsafeMutableBytes { random.fill($0) }
            if length > 0 { junk[0] = SnapshotCodec.kind }
            _ = try? SnapshotCodec.decode(junk) { _ in entities }
        }
        let full = SnapshotCodec.encode(header: .init(tick: 3, baselineTick: 0, lastAppliedInput: 0, yourEntity: 1), entities: entities, baseline: nil)
        for cut in 0..<full.count {
            #expect(throws: SnapshotCodec.DecodeError.malformed) { try SnapshotCodec.decode(Array(full.prefix(cut))) { _ -> [ArenaEntity]? in nil } }
        }
    }
}

@Suite struct InputTests {
    let rules = ArenaRules()

    @Test func garbageInputValuesAreClampedOrRejected() {
        var writer = BitWriter()
        writer.write(1, bits: 8)
        writer.write(0, bits: 32)
        writer.write(0, bits: 32)
        writer.write(1, bits: 32)
        writer.write(1, bits: 4)
        rules.encode(Input(moveX: -128, moveY: 127, aim: 5, buttons: 0), into: &writer)
        let clamped = InputMessage<Input>.decode(writer.finish(), rules: rules)
        #expect(clamped?.inputs.first?.moveX == -127)
        // Unknown buttons, zero inputs, too many inputs, trailing junk: rejected.
        var bad = BitWriter()
        bad.write(1, bits: 8); bad.write(0, bits: 32); bad.write(0, bits: 32); bad.write(1, bits: 32); bad.write(0, bits: 4)
        #expect(InputMessage<Input>.decode(bad.finish(), rules: rules) == nil)
        let good = InputMessage(ackedSnapshot: 0, viewTick: 0, newestSequence: 3, inputs: [Input(), Input()]).encoded(with: rules)
        #expect(InputMessage<Input>.decode(good, rules: rules)?.inputs.count == 2)
        #expect(InputMessage<Input>.decode(good + [0xFF, 0xFF], rules: rules) == nil)
        for cut in 0..<good.count { #expect(InputMessage<Input>.decode(Array(good.prefix(cut)), rules: rules) == nil) }
    }

    @Test func aClientSendingTooFastGainsNoSpeed() {
        let settings = MatchSettings(tickRate: 60, map: "empty")
        let honest = MatchSimulation(rules: rules, settings: settings)
        let cheat = MatchSimulation(rules: rules, settings: settings)
        honest.join(1, name: "honest")
        cheat.join(1, name: "cheat")
        var honestSequence: UInt32 = 0
        var cheatSequence: UInt32 = 0
        let right = Input(moveX: 127)
        var cheatPositions: [Int32] = []
        for _ in 0..<120 {
            honestSequence += 1
            honest.receive(InputMessage(ackedSnapshot: 0, viewTick: 0, newestSequence: honestSequence, inputs: [right]).encoded(with: rules), from: 1)
            // Five inputs per tick.
            for _ in 0..<5 {
                cheatSequence += 1
                cheat.receive(InputMessage(ackedSnapshot: 0, viewTick: 0, newestSequence: cheatSequence, inputs: [right]).encoded(with: rules), from: 1)
            }
            honest.step()
            cheat.step()
            cheatPositions.append(rules.playerEntity(1, in: cheat.state)?.x ?? 0)
        }
        let honestX = rules.playerEntity(1, in: honest.state)?.x ?? 0
        let cheatX = rules.playerEntity(1, in: cheat.state)?.x ?? 0
        let topSpeed = ArenaRules.Tuning(tickRate: 60, maxRewindSeconds: 0.2).maxSpeed
        // Never faster than top speed per tick; at most one tick ahead (it skipped the honest
        // client's one-tick jitter reserve), never five times as far.
        #expect(zip(cheatPositions.dropFirst(), cheatPositions).allSatisfy { $0 - $1 <= topSpeed })
        #expect(cheatX <= honestX + topSpeed)
        #expect(honestX > 0)
    }

    @Test func lostPacketsLoseNoInputs() {
        var buffer = InputBuffer<Input>(idle: Input())
        var applied: [Input] = []
        // Messages carry the newest 8 inputs; every third message is lost.
        for sequence in UInt32(1)...60 {
            if sequence % 3 != 0 {
                let inputs = (0..<min(8, Int(sequence))).map { Input(aim: UInt16(Int(sequence) - $0)) }
                buffer.receive(newestSequence: sequence, inputs: inputs)
            }
            applied.append(buffer.next())
        }
        #expect(buffer.repeated == 0)
        let aims = applied.map(\.aim).filter { $0 != 0 }
        #expect(aims == Array(aims.first!...aims.last!))
    }
}

@Suite struct SnapshotBudgetTests {
    @Test func aLargeMatchFitsTheBudgetNearestFirstAndConvergesLosslessly() throws {
        // 64 players spread over the arena, everyone moving: a full snapshot is ~1.5 KB.
        let rules = ArenaRules()
        let match = MatchSimulation(rules: rules, settings: MatchSettings(maxPlayers: 64, tickRate: 60, map: "empty"))
        for player in PlayerID(1)...64 { match.join(player, name: "p\(player)") }
        var random = SeededRandomSource(seed: 3)
        let client = ClientSimulation(rules: rules, settings: match.settings)
        var sequence: UInt32 = 0
        var sizes: [Int] = []
        for tick in 0..<240 {
            for player in PlayerID(1)...64 {
                let input = ArenaRules.Input(moveX: Int8(truncatingIfNeeded: Int(random.next() % 255) - 127), moveY: Int8(truncatingIfNeeded: Int(random.next() % 255) - 127))
                if player == 1 {
                    // Player 1's messages come from the real client (it acknowledges snapshots).
                    let message = client.makeInputMessage(input, now: Double(tick) / 60)
                    match.receive(message, from: 1)
                } else {
                    sequence = UInt32(tick + 1)
                    match.receive(InputMessage(ackedSnapshot: 0, viewTick: 0, newestSequence: sequence, inputs: [input]).encoded(with: rules), from: player)
                }
            }
            match.step()
            let snapshot = try #require(match.snapshot(for: 1))
            sizes.append(snapshot.count)
            let accepted = client.receiveSnapshot(snapshot, now: Double(tick) / 60)
            if !accepted { Issue.record("snapshot \(tick) was not accepted"); return }
        }
        #expect(sizes.max() ?? 0 <= match.snapshotBudgetBytes)
        // Everyone stops: within a few snapshots the client's world equals the server's exactly.
        for tick in 240..<300 {
            let message = client.makeInputMessage(ArenaRules.Input(), now: Double(tick) / 60)
            match.receive(message, from: 1)
            for player in PlayerID(2)...64 {
                match.receive(InputMessage(ackedSnapshot: 0, viewTick: 0, newestSequence: UInt32(tick + 1), inputs: [ArenaRules.Input()]).encoded(with: rules), from: player)
            }
            match.step()
            client.receiveSnapshot(try #require(match.snapshot(for: 1)), now: Double(tick) / 60)
        }
        let server = rules.entities(of: match.state)
        let seen = client.interpolated(at: Double(client.newestTick))
        #expect(seen.count == server.count)
        #expect(Set(seen) == Set(server))
    }
}
