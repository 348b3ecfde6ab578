import Benchmark
import GameCore
import NetProtocol

/// What one match connection holds on the heap, with the game server's channel configuration
/// (`MatchChannel.connectionConfiguration(limits:)`), measured by the malloc interposer:
/// `memoryLeakedBytes` is what an iteration allocated and did not free (requested bytes, so
/// without the allocator's own overhead), `mallocFreeDelta` how many blocks that is. Each
/// iteration makes one connection and keeps it until the benchmark ends. Like the match
/// server's, the connections share one memory pool (made before the measurements).
func channelMemoryBenchmarks() {
    let metrics: [BenchmarkMetric] = [.memoryLeakedBytes, .mallocFreeDelta, .mallocCountTotal]
    let limits = GameServerLimits()
    let configuration = MatchChannel.connectionConfiguration(limits: limits)
    let pool = ChannelMemoryPool(limitBytes: limits.totalBudgetBytes)
    let clientConfiguration = MatchChannel.connectionConfiguration()
    let kept = KeptConnections()

    Benchmark(
        "Channel connection memory at rest (match configuration, one connection per iteration)",
        configuration: .init(metrics: metrics, warmupIterations: 0, scalingFactor: .one, maxIterations: 200)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            guard let connection = try? ChannelConnection(configuration: configuration, pool: pool) else { fatalError("configuration rejected") }
            kept.connections.append(connection)
        }
    }

    // A match's steady traffic for 10 s at 60 Hz: the client sends an input (40 B, unreliable)
    // every tick and a reliable message (32 B, echoed back as the server does) every half
    // second; the server sends a snapshot (300 B, unreliable-sequenced) every tick; acks flow
    // both ways. The client goes away at the end; the server's connection is what is kept.
    let input = [UInt8](repeating: 1, count: 40)
    let snapshot = [UInt8](repeating: 2, count: 300)
    let reliable = [UInt8](repeating: 3, count: 32)
    Benchmark(
        "Channel connection memory after 10 s of match traffic (match configuration, one server connection per iteration)",
        configuration: .init(metrics: metrics, warmupIterations: 0, scalingFactor: .one, maxIterations: 50)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            guard let server = try? ChannelConnection(configuration: configuration, pool: pool),
                let client = try? ChannelConnection(configuration: clientConfiguration)
            else { fatalError("configuration rejected") }
            var time = 0.0
            for tick in 0..<600 {
                _ = try? client.send(input, on: MatchChannel.input.rawValue)
                if tick % 30 == 0 { _ = try? client.send(reliable, on: MatchChannel.reliable.rawValue) }
                client.generatePackets(now: time) { server.handlePacket($0, now: time) }
                while let message = server.receive(on: MatchChannel.reliable.rawValue) { _ = try? server.send(message, on: MatchChannel.reliable.rawValue) }
                while server.withNextMessage(on: MatchChannel.input.rawValue, { blackHole($0.count) }) != nil {}
                _ = try? server.send(snapshot, on: MatchChannel.snapshot.rawValue)
                server.generatePackets(now: time) { client.handlePacket($0, now: time) }
                while client.withNextMessage(on: MatchChannel.snapshot.rawValue, { blackHole($0.count) }) != nil {}
                while client.receive(on: MatchChannel.reliable.rawValue) != nil {}
                time += 1.0 / 60
            }
            kept.connections.append(server)
        }
    }
}

/// Keeps the measured connections alive past their iteration (room reserved up front, so the
/// array never grows inside a measurement).
final class KeptConnections: @unchecked Sendable {
    var connections: [ChannelConnection] = []
    init() { connections.reserveCapacity(1000) }
}
