import NetProtocol
import Testing

/// Buffers of messages read in place are kept for later arrivals: they hold the right bytes,
/// are counted in what the connection holds (and in its pool), and are given back when the
/// budget needs them. Callbacks may use the connection they are called from.
@Suite struct ChannelBufferReuseTests {
    /// One reliable-ordered channel of whole messages (at most one fragment's size).
    static func channels() -> [ChannelConfiguration] {
        [ChannelConfiguration(kind: .reliableOrdered, sendQueueSize: 128, receiveQueueSize: 128, maxMessageBytes: 384)]
    }

    /// Hands every packet of `from` to `to` in one tick, then the other way.
    func exchange(_ from: ChannelConnection, _ to: ChannelConnection, now: Double) {
        from.generatePackets(now: now) { to.handlePacket($0, now: now) }
        to.generatePackets(now: now) { from.handlePacket($0, now: now) }
    }

    @Test func buffersReadInPlaceCarryTheNextMessagesAndAreCounted() throws {
        let configuration = ConnectionConfiguration(channels: Self.channels(), budgetBytesPerTick: 64 * 1024)
        let pool = ChannelMemoryPool(limitBytes: 64 * 1024 * 1024)
        let a = try ChannelConnection(configuration: configuration)
        let b = try ChannelConnection(configuration: configuration, pool: pool)
        var next = 0
        var received = 0
        var time = 0.0
        for round in 0..<6 {
            // Sizes change from round to round, so reused buffers are both grown and shrunk.
            for _ in 0..<100 {
                try a.send(numberedMessage(next, size: 8 + (next * 37 + round * 101) % 370), on: 0)
                next += 1
            }
            exchange(a, b, now: time)
            while let matched = b.withNextMessage(on: 0, { $0 == numberedMessage(received, size: 8 + (received * 37 + (received / 100) * 101) % 370) }) {
                #expect(matched, "message \(received)")
                received += 1
            }
            #expect(received == next)
            #expect(pool.usedBytes == b.heldBytes)
            time += 1.0 / 60
        }
        // The buffers kept are part of what b holds.
        #expect(b.heldBytes > ChannelConnection.fixedBytes(of: configuration))
        #expect(b.fault == nil && a.fault == nil)
    }

    @Test func keptBuffersAreGivenBackWhenASendNeedsTheirBytes() throws {
        // b's budget leaves room for one full window of 384-byte messages and little more; a's
        // is the default.
        var tight = ConnectionConfiguration(channels: Self.channels(), budgetBytesPerTick: 64 * 1024)
        tight.memoryBudgetBytes = ChannelConnection.fixedBytes(of: tight) + 56_000
        let wide = ConnectionConfiguration(channels: Self.channels(), budgetBytesPerTick: 64 * 1024)
        let a = try ChannelConnection(configuration: wide)
        let b = try ChannelConnection(configuration: tight)
        let message = [UInt8](repeating: 9, count: 384)
        for _ in 0..<128 { try a.send(message, on: 0) }
        exchange(a, b, now: 0)
        var read = 0
        while b.withNextMessage(on: 0, { $0.count }) != nil { read += 1 }
        #expect(read == 128)
        let kept = b.heldBytes - ChannelConnection.fixedBytes(of: tight)
        #expect(kept >= 128 * 384)
        // Twenty sends need more than the budget leaves beside the kept buffers: they are given
        // back rather than the sends refused.
        #expect(b.canSend(384, on: 0))
        for _ in 0..<20 { try b.send(message, on: 0) }
        #expect(b.heldBytes <= tight.memoryBudgetBytes)
        #expect(b.heldBytes - ChannelConnection.fixedBytes(of: tight) < kept)
    }

    @Test func emitAndReadCallbacksMayUseTheirConnection() throws {
        let configuration = ConnectionConfiguration(channels: Self.channels())
        let a = try ChannelConnection(configuration: configuration)
        let b = try ChannelConnection(configuration: configuration)
        try a.send(numberedMessage(0), on: 0)
        var queuedFromEmit = false
        // A message queued while a packet is being emitted goes out in a later packet.
        a.generatePackets(now: 0) { packet in
            b.handlePacket(packet, now: 0)
            if !queuedFromEmit {
                queuedFromEmit = (try? a.send(numberedMessage(1), on: 0)) != nil
            }
        }
        // An echo sent from inside the read callback, as a server would.
        var echoed = 0
        while b.withNextMessage(on: 0, { message in _ = try? b.send(message, on: 0) }) != nil { echoed += 1 }
        for step in 1..<10 {
            exchange(a, b, now: Double(step) / 60)
            while b.withNextMessage(on: 0, { message in _ = try? b.send(message, on: 0) }) != nil { echoed += 1 }
        }
        var back: [[UInt8]] = []
        while let message = a.receive(on: 0) { back.append(message) }
        #expect(queuedFromEmit)
        #expect(echoed == 2)
        #expect(back == [numberedMessage(0), numberedMessage(1)])
    }
}
