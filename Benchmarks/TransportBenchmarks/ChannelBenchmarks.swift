import Benchmark
import Foundation
import NetProtocol

/// Two channel connections handing packets straight to each other, no loss: the in-memory
/// shape yojimbo's throughput is measured in beside ours (BENCHMARKS.md, "Channel layer beside
/// yojimbo"), so that the two figures compare.
final class DirectChannelPair: @unchecked Sendable {
    let a: ChannelConnection
    let b: ChannelConnection
    var time = 0.0

    init(channels: [ChannelConfiguration]) {
        // A budget large enough for a hundred 200-byte messages per tick.
        let configuration = ConnectionConfiguration(channels: channels, budgetBytesPerTick: 64 * 1024)
        guard let a = try? ChannelConnection(configuration: configuration), let b = try? ChannelConnection(configuration: configuration)
        else { fatalError("channel configuration rejected") }
        self.a = a
        self.b = b
    }

    /// One tick: a's packets to b, b reads what arrived in place, b's packet (its acks) back to a.
    @inline(__always)
    func tick(channel: Int) -> Int {
        a.generatePackets(now: time) { b.handlePacket($0, now: time) }
        var received = 0
        while b.withNextMessage(on: channel, { message in blackHole(message.count) }) != nil { received += 1 }
        b.generatePackets(now: time) { a.handlePacket($0, now: time) }
        time += 1.0 / 60
        return received
    }
}

func channelBenchmarks() {
    // Throughput, in the shape BENCHMARKS.md ("Channel layer beside yojimbo") measures yojimbo
    // in: two connections in memory, each one's packets handed straight to the other. One
    // iteration is one tick: a queues 100 messages of 32 or 200 bytes, builds its packets (at
    // most 1200 bytes each, as many as the messages need) straight into b, b reads all 100 in
    // place, b's packet (its acks) goes back to a, and virtual time moves on 1/60 s. Nothing is
    // lost, so nothing is resent. Messages per second = 100 x iterations per second.
    // Reliable-ordered runs on a connection with that one channel (1024-message queues, like
    // yojimbo's default channel); unreliable-unordered on the standard four channels.
    let reliableOnly = [ChannelConfiguration(kind: .reliableOrdered)]
    // yojimbo needs a message object per send (it writes the id into it), made by its
    // allocator; these two make a new array per message likewise, where the others send one
    // array again and again (the channel itself allocates nothing per message).
    for size in [32, 200] {
        let pair = DirectChannelPair(channels: reliableOnly)
        Benchmark(
            "Channel messages, reliable-ordered, \(size) B, a new array per message (one iteration = 100 messages through a tick)",
            configuration: .init(scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 20_000)
        ) { benchmark in
            for _ in benchmark.scaledIterations {
                for _ in 0..<100 { _ = try? pair.a.send([UInt8](repeating: 5, count: size), on: 0) }
                let received = pair.tick(channel: 0)
                if received != 100 { fatalError("\(received) of 100 messages arrived in a tick") }
            }
        }
    }
    for (name, channels, channel, size) in [
        ("reliable-ordered, 32 B", reliableOnly, 0, 32), ("reliable-ordered, 200 B", reliableOnly, 0, 200),
        ("unreliable-unordered, 32 B", ConnectionConfiguration.standardChannels, 2, 32),
        ("unreliable-unordered, 200 B", ConnectionConfiguration.standardChannels, 2, 200),
    ] {
        let pair = DirectChannelPair(channels: channels)
        let message = [UInt8](repeating: 5, count: size)
        let perTick = 100
        Benchmark(
            "Channel messages, \(name) (one iteration = \(perTick) messages through a tick)",
            configuration: .init(scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 20_000)
        ) { benchmark in
            for _ in benchmark.scaledIterations {
                for _ in 0..<perTick { _ = try? pair.a.send(message, on: channel) }
                let received = pair.tick(channel: channel)
                if received != perTick { fatalError("\(received) of \(perTick) messages arrived in a tick") }
            }
        }
    }

    channelMemoryBenchmarks()

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

