import Benchmark
import Foundation
import NetProtocol

/// Two channel connections handing packets straight to each other, no loss.
final class DirectChannelPair: @unchecked Sendable {
    let a: ChannelConnection
    let b: ChannelConnection
    var time = 0.0

    init() {
        // A budget large enough for a hundred 200-byte messages per tick.
        let configuration = ConnectionConfiguration(budgetBytesPerTick: 64 * 1024)
        guard let a = try? ChannelConnection(configuration: configuration), let b = try? ChannelConnection(configuration: configuration)
        else { fatalError("channel configuration rejected") }
        self.a = a
        self.b = b
    }

    /// One tick each way: a's packets to b, b's acks back to a.
    func tick() {
        a.generatePackets(now: time) { b.handlePacket($0, now: time) }
        b.generatePackets(now: time) { a.handlePacket($0, now: time) }
        time += 1.0 / 60
    }
}

func channelBenchmarks() {
    for (name, channel, size) in [
        ("reliable-ordered, 32 B", 0, 32), ("reliable-ordered, 200 B", 0, 200),
        ("unreliable-unordered, 32 B", 2, 32), ("unreliable-unordered, 200 B", 2, 200),
    ] {
        let pair = DirectChannelPair()
        let message = [UInt8](repeating: 5, count: size)
        let perTick = 100
        Benchmark("Channel messages, \(name) (one iteration = \(perTick) messages through a tick)", configuration: .init(scalingFactor: .one)) { benchmark in
            for _ in benchmark.scaledIterations {
                for _ in 0..<perTick { _ = try? pair.a.send(message, on: channel) }
                pair.tick()
                var received = 0
                while let delivered = pair.b.receive(on: channel) {
                    blackHole(delivered)
                    received += 1
                }
                blackHole(received)
            }
        }
    }

    let figures: [BenchmarkMetric] = [
        .custom("header bytes per packet x100, 0% loss", useScalingFactor: false),
        .custom("header bytes per packet x100, 20% loss", useScalingFactor: false),
        .custom("256 KiB message delivery ms, 0% loss", useScalingFactor: false),
        .custom("256 KiB message delivery ms, 10% loss", useScalingFactor: false),
    ]
    Benchmark(
        "Channel figures in virtual time (50 ms one way, 60 Hz, default budget)",
        configuration: .init(metrics: figures, warmupIterations: 0, scalingFactor: .one, maxIterations: 1)
    ) { benchmark in
        let values = channelFigures()
        for (metric, value) in zip(figures, values) { benchmark.measurement(metric, value) }
    }
}

/// Header overhead (bytes per packet x100) at 0 and 20 % loss, then the delivery time of a
/// 256 KiB message (ms) at 0 and 10 % loss, all in virtual time.
func channelFigures() -> [Int] {
    var values: [Int] = []
    for loss in [0.0, 0.2] {
        let link = LinkSimulator(conditions: LinkConditions(latency: 0.05, loss: loss), seed: 3)
        guard let a = try? ChannelConnection(), let b = try? ChannelConnection() else { return [] }
        let from = NetAddress(ipv4: 10, 0, 0, 1, port: 1)
        let to = NetAddress(ipv4: 10, 0, 0, 2, port: 2)
        var headerBytes = 0
        var packets = 0
        var time = 0.0
        for _ in 0..<1200 {
            for datagram in link.receive(now: time) {
                if datagram.to == to { b.handlePacket(datagram.bytes, now: time) } else { a.handlePacket(datagram.bytes, now: time) }
            }
            _ = try? a.send([UInt8](repeating: 1, count: 40), on: 2)
            _ = try? b.send([UInt8](repeating: 1, count: 40), on: 2)
            a.generatePackets(now: time) { packet in
                // Header size: total minus the one 40-byte unreliable entry (control + length + body).
                headerBytes += packet.count - (packet.count > 42 ? 42 : 0)
                packets += 1
                link.send(Array(packet), from: from, to: to, now: time)
            }
            b.generatePackets(now: time) { link.send(Array($0), from: to, to: from, now: time) }
            while a.receive(on: 2) != nil {}
            while b.receive(on: 2) != nil {}
            time += 1.0 / 60
        }
        values.append(headerBytes * 100 / max(1, packets))
    }
    for loss in [0.0, 0.1] {
        let link = LinkSimulator(conditions: LinkConditions(latency: 0.05, loss: loss), seed: 4)
        guard let a = try? ChannelConnection(), let b = try? ChannelConnection() else { return [] }
        let from = NetAddress(ipv4: 10, 0, 0, 1, port: 1)
        let to = NetAddress(ipv4: 10, 0, 0, 2, port: 2)
        var time = 0.0
        _ = try? a.send([UInt8](repeating: 9, count: 256 * 1024), on: 0)
        var done = false
        while !done && time < 60 {
            for datagram in link.receive(now: time) {
                if datagram.to == to { b.handlePacket(datagram.bytes, now: time) } else { a.handlePacket(datagram.bytes, now: time) }
            }
            if b.receive(on: 0) != nil { done = true }
            a.generatePackets(now: time) { link.send(Array($0), from: from, to: to, now: time) }
            b.generatePackets(now: time) { link.send(Array($0), from: to, to: from, now: time) }
            time += 1.0 / 60
        }
        values.append(Int(time * 1000))
    }
    return values
}

