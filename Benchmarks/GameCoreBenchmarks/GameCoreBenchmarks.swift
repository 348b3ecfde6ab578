import Benchmark
import GameCore
import MatchContract
import NetProtocol

/// Matches of 16 players, each fed a pre-encoded input message per tick (moving, turning,
/// firing), stepped, and snapshotted for every player: the server's per-tick work in memory.
final class MatchRig: @unchecked Sendable {
    let matches: [MatchSimulation<ArenaRules>]
    let messages: [[UInt8]]
    var sequence: UInt32 = 0
    let rules = ArenaRules()

    init(matches count: Int, players: Int = 16) {
        matches = (0..<count).map { index in
            let match = MatchSimulation(rules: ArenaRules(), settings: MatchSettings(maxPlayers: 64, tickRate: 60), seed: UInt64(index))
            for player in 1...players { match.join(PlayerID(index * 100 + player), name: "p\(player)") }
            return match
        }
        var random = SeededRandomSource(seed: 9)
        // 64 distinct input patterns, cycled.
        messages = (0..<64).map { pattern in
            let input = ArenaRules.Input(
                moveX: Int8(truncatingIfNeeded: Int(random.next() % 255) - 127), moveY: Int8(truncatingIfNeeded: Int(random.next() % 255) - 127),
                aim: UInt16(truncatingIfNeeded: random.next()), buttons: pattern % 4 == 0 ? ArenaRules.Input.fireHitscan : (pattern % 9 == 0 ? ArenaRules.Input.fireProjectile : 0))
            return [input]
        }.map { _ in [] }
        _ = messages
    }

    /// The clients' side of the next tick: every player's input message, encoded as a client
    /// would (outside the measurement: these allocations are the clients', not the server's).
    func nextMessages() -> [[[UInt8]]] {
        sequence += 1
        return matches.map { match in
            match.players.indices.map { offset in
                let pattern = (Int(sequence) / 30 + offset) % 4
                let moves: [(Int8, Int8)] = [(127, 30), (-20, 127), (-127, 0), (40, -127)]
                let input = ArenaRules.Input(moveX: moves[pattern].0, moveY: moves[pattern].1, aim: UInt16(truncatingIfNeeded: Int(sequence) * 500 + offset * 4000),
                                             buttons: (Int(sequence) + offset) % 20 == 0 ? ArenaRules.Input.fireHitscan : ((Int(sequence) + offset) % 97 == 0 ? ArenaRules.Input.fireProjectile : 0))
                return InputMessage(ackedSnapshot: match.tick, viewTick: match.tick, newestSequence: sequence, inputs: [input]).encoded(with: rules)
            }
        }
    }

    /// The server's tick: receive every input message, step, snapshot every player.
    func tick(_ messages: [[[UInt8]]]) -> Int {
        var bytes = 0
        for (match, inputs) in zip(matches, messages) {
            for (player, message) in zip(match.players, inputs) { match.receive(message, from: player) }
            match.step()
            for player in match.players { bytes += match.snapshot(for: player)?.count ?? 0 }
        }
        return bytes
    }

    /// One measured server tick, the clients' encoding left out.
    func measuredTick(_ benchmark: Benchmark) {
        let messages = nextMessages()
        benchmark.startMeasurement()
        blackHole(tick(messages))
        benchmark.stopMeasurement()
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput], warmupIterations: 30, scalingFactor: .one, maxDuration: .seconds(4), maxIterations: 2_000)

    let one = MatchRig(matches: 1)
    Benchmark("Server tick: one 16-player match (inputs, step, 16 snapshots)") { benchmark in
        for _ in benchmark.scaledIterations { one.measuredTick(benchmark) }
    }

    let many = MatchRig(matches: 63)
    Benchmark("Server tick: 1,008 players in 63 matches of 16", configuration: .init(maxIterations: 300)) { benchmark in
        for _ in benchmark.scaledIterations { many.measuredTick(benchmark) }
    }

    let bandwidth: [BenchmarkMetric] = [
        .custom("delta snapshot bytes/s per client", useScalingFactor: false),
        .custom("naive snapshot bytes/s per client", useScalingFactor: false),
        .custom("delta as % of naive", useScalingFactor: false),
    ]
    Benchmark("Snapshot bandwidth, 16 players moving and firing, 60 Hz (10 s of play, virtual time)",
              configuration: .init(metrics: bandwidth, warmupIterations: 0, maxIterations: 1)) { benchmark in
        let rules = ArenaRules()
        let harness = SimHarness(rules: rules, settings: MatchSettings(tickRate: 60), conditions: LinkConditions(latency: 0.03), seed: 2) { player, client in
            let tick = Int(client.inputSequence)
            let phase = (tick / 40 + Int(player)) % 4
            let moves: [(Int8, Int8)] = [(127, 30), (-20, 127), (-127, 0), (40, -127)]
            let buttons = (tick + Int(player)) % 15 == 0 ? ArenaRules.Input.fireHitscan : ((tick + Int(player)) % 70 == 0 ? ArenaRules.Input.fireProjectile : 0)
            return ArenaRules.Input(moveX: moves[phase].0, moveY: moves[phase].1, aim: UInt16(truncatingIfNeeded: tick * 400 + Int(player) * 4000), buttons: buttons)
        }
        for player in PlayerID(1)...16 { _ = try? harness.addClient(player, name: "p\(player)") }
        var naive = 0
        for _ in 0..<600 {
            harness.step()
            naive += 16 * ArenaEntity.naiveBytes(entities: harness.match.map { rules.entities(of: $0.state).count } ?? 0)
        }
        let seconds = 10.0
        let delta = Double(harness.server.snapshotBytesSent) / 16 / seconds
        let naivePerClient = Double(naive) / 16 / seconds
        benchmark.measurement(bandwidth[0], Int(delta))
        benchmark.measurement(bandwidth[1], Int(naivePerClient))
        benchmark.measurement(bandwidth[2], Int((delta / naivePerClient * 100).rounded()))
    }
}
