import NetProtocol
import Testing

@Suite struct ChannelTests {
    static let ordered = 0, unordered = 1, unreliable = 2, sequenced = 3

    @Test(arguments: [0.2, 0.5, 0.9])
    func reliableMessagesArriveExactlyOnceUnderLoss(loss: Double) throws {
        let conditions = LinkConditions(latency: 0.05, jitter: 0.02, loss: loss, duplicate: 0.1, reorder: 0.1)
        let pair = try ChannelPair(conditions: conditions, seed: UInt64(loss * 100))
        let count = loss >= 0.9 ? 300 : 1000
        var orderedReceived: [Int] = []
        var unorderedReceived: [Int] = []
        var sent = 0
        var steps = 0
        while (orderedReceived.count < count || unorderedReceived.count < count) && steps < 200_000 {
            // Keep the queues topped up, as a game would, without overflowing them.
            while sent < count && pair.a.unacknowledgedCount(on: Self.ordered) < 256 && pair.a.unacknowledgedCount(on: Self.unordered) < 256 {
                try pair.a.send(numberedMessage(sent, size: 4 + sent % 300), on: Self.ordered)
                try pair.a.send(numberedMessage(sent, size: 4 + sent % 200), on: Self.unordered)
                sent += 1
            }
            pair.step()
            orderedReceived += pair.drain(pair.b, channel: Self.ordered).map(messageNumber)
            unorderedReceived += pair.drain(pair.b, channel: Self.unordered).map(messageNumber)
            steps += 1
        }
        #expect(pair.a.fault == nil && pair.b.fault == nil)
        #expect(orderedReceived == Array(0..<count), "ordered channel at \(loss) loss")
        #expect(steps < 200_000, "steps \(steps) sent \(sent) unacked \(pair.a.unacknowledgedCount(on: Self.ordered)) \(pair.a.unacknowledgedCount(on: Self.unordered)) faults \(String(describing: pair.b.fault))")
        #expect(unorderedReceived.count == count)
        #expect(Set(unorderedReceived) == Set(0..<count))
        #expect(pair.b.statistics.duplicatePackets > 0)
    }

    @Test func sequencesAndMessageIDsWrapAroundSeveralTimes() throws {
        let pair = try ChannelPair(conditions: LinkConditions(latency: 0.02, loss: 0.05))
        var next = 0
        var received: [Int] = []
        let total = 200_000  // message ids wrap three times; packets wrap too
        var steps = 0
        while received.count < total && steps < 100_000 {
            var queued = 0
            while next < total && queued < 64 && pair.a.unacknowledgedCount(on: Self.ordered) < 900 {
                try pair.a.send(numberedMessage(next), on: Self.ordered)
                next += 1
                queued += 1
            }
            pair.step()
            for message in pair.drain(pair.b, channel: Self.ordered) {
                #expect(messageNumber(message) == received.count)
                received.append(messageNumber(message))
            }
            steps += 1
        }
        #expect(received.count == total)
        #expect(pair.a.statistics.packetsSent > 65_536 || pair.b.statistics.packetsSent > 65_536 || total > 131_072)
    }

    @Test func aLossBurstDoesNotStallTheReliableChannel() throws {
        let pair = try ChannelPair(conditions: LinkConditions(latency: 0.03))
        for index in 0..<100 { try pair.a.send(numberedMessage(index), on: Self.ordered) }
        pair.run(seconds: 0.5)
        pair.link.conditions.loss = 1
        for index in 100..<200 { try pair.a.send(numberedMessage(index), on: Self.ordered) }
        pair.run(seconds: 1)
        pair.link.conditions.loss = 0
        let burstEnd = pair.time
        var received = pair.drain(pair.b, channel: Self.ordered).map(messageNumber)
        while received.count < 200 && pair.time < burstEnd + 5 {
            pair.step()
            received += pair.drain(pair.b, channel: Self.ordered).map(messageNumber)
        }
        #expect(received == Array(0..<200))
        // Recovery within a few resend delays of the burst ending, not seconds.
        #expect(pair.time - burstEnd < 0.5)
    }

    @Test(arguments: [1, 384, 385, 256 * 1024])
    func largeMessagesOfEveryBoundarySize(size: Int) throws {
        let pair = try ChannelPair(conditions: LinkConditions(latency: 0.02, loss: 0.1, duplicate: 0.1, reorder: 0.1))
        var random = SeededRandomSource(seed: UInt64(size))
        var message = [UInt8](repeating: 0, count: size)
        message.withUnsafeMutableBytes { random.fill($0) }
        let handle = try #require(try pair.a.send(message, on: Self.ordered))
        var received: [[UInt8]] = []
        var progress: [Int] = []
        while received.isEmpty && pair.time < 30 {
            pair.step()
            received += pair.drain(pair.b, channel: Self.ordered)
            if let current = pair.a.progress(of: handle) { progress.append(current.ackedBytes) }
        }
        #expect(received == [message])
        #expect(progress == progress.sorted(), "progress never goes backwards")
        pair.run(seconds: 1)
        #expect(pair.a.progress(of: handle)?.isComplete == true)
        #expect(pair.drain(pair.b, channel: Self.ordered).isEmpty)
    }

    @Test func aLostLastFragmentIsResentAndADuplicatedFragmentIsHarmless() throws {
        let pair = try ChannelPair()
        // Six fragments (5 x 384 + 80): three per packet, so the second data packet carries the last.
        let message = (0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        var dataPackets = 0
        var duplicate: [UInt8]?
        pair.intoB = { packet in
            guard packet.count > 200 else { return packet }
            dataPackets += 1
            if dataPackets == 1 { duplicate = packet }
            return dataPackets == 2 ? nil : packet
        }
        try pair.a.send(message, on: Self.ordered)
        pair.step()
        pair.step()
        if let duplicate { pair.b.handlePacket(duplicate, now: pair.time) }
        #expect(pair.drain(pair.b, channel: Self.ordered).isEmpty)
        pair.run(seconds: 1)
        #expect(pair.drain(pair.b, channel: Self.ordered) == [message])
        #expect(pair.a.statistics.resends >= 3)
        #expect(pair.b.fault == nil)
    }

    @Test func backPressureIsATypedError() throws {
        var configuration = ConnectionConfiguration()
        configuration.channels[0].sendQueueSize = 8
        let pair = try ChannelPair(configuration: configuration)
        for index in 0..<8 { try pair.a.send(numberedMessage(index), on: Self.ordered) }
        #expect(throws: ChannelSendError.queueFull) { try pair.a.send([1], on: Self.ordered) }
        #expect(throws: ChannelSendError.invalidChannel(9)) { try pair.a.send([1], on: 9) }
        #expect(throws: ChannelSendError.messageTooLarge(maxBytes: 256 * 1024)) {
            try pair.a.send([UInt8](repeating: 0, count: 256 * 1024 + 1), on: Self.ordered)
        }
        #expect(throws: ChannelSendError.self) { try pair.a.send([UInt8](repeating: 0, count: 1200), on: Self.unreliable) }
        pair.run(seconds: 0.2)
        try pair.a.send([1], on: Self.ordered)  // acks freed room
    }

    @Test func unreliableSequencedNeverDeliversOlderMessages() throws {
        let pair = try ChannelPair(conditions: LinkConditions(latency: 0.05, jitter: 0.05, loss: 0.1, duplicate: 0.2, reorder: 0.3))
        var delivered: [Int] = []
        var unordered: [Int] = []
        for index in 0..<2000 {
            try pair.a.send(numberedMessage(index), on: Self.sequenced)
            try pair.a.send(numberedMessage(index), on: Self.unreliable)
            pair.step()
            delivered += pair.drain(pair.b, channel: Self.sequenced).map(messageNumber)
            unordered += pair.drain(pair.b, channel: Self.unreliable).map(messageNumber)
        }
        pair.run(seconds: 1)
        delivered += pair.drain(pair.b, channel: Self.sequenced).map(messageNumber)
        unordered += pair.drain(pair.b, channel: Self.unreliable).map(messageNumber)
        #expect(delivered == delivered.sorted())
        #expect(Set(delivered).count == delivered.count)
        #expect(Set(unordered).count == unordered.count, "unreliable messages are delivered at most once")
        #expect(delivered.count > 800 && unordered.count > 1600, "\(delivered.count) \(unordered.count)")
        #expect(pair.b.statistics.unreliableStale > 0)
    }

    @Test func statisticsConvergeOnTheLinksTrueValues() throws {
        // 80 ms each way: RTT 160 ms, plus up to a tick of waiting for the peer's next packet.
        let pair = try ChannelPair(conditions: LinkConditions(latency: 0.08, loss: 0.2))
        for _ in 0..<600 {
            try pair.a.send([1, 2, 3], on: Self.unreliable)
            try pair.b.send([1, 2, 3], on: Self.unreliable)
            pair.step()
        }
        let stats = pair.a.statistics
        #expect(abs(stats.rtt - 0.168) < 0.02, "rtt \(stats.rtt)")
        #expect(stats.rttMin >= 0.159 && stats.rttMax <= 0.22, "\(stats.rttMin) \(stats.rttMax)")
        // Packet loss as seen by the sender: a packet is acked only if it got through (80 %).
        #expect(abs(stats.packetLoss - 0.2) < 0.07, "loss \(stats.packetLoss)")
        #expect(stats.sentBandwidth > 60 * 30 && stats.sentBandwidth < 60 * 60, "sent \(stats.sentBandwidth)")
        #expect(stats.receivedBandwidth > 0 && stats.ackedBandwidth > 0)
    }

    @Test func bandwidthLimitIsHonoured() throws {
        var configuration = ConnectionConfiguration()
        configuration.bandwidthBytesPerSecond = 20_000
        let pair = try ChannelPair(configuration: configuration)
        let message = [UInt8](repeating: 7, count: 100 * 1024)
        try pair.a.send(message, on: Self.ordered)
        pair.run(seconds: 2)
        #expect(pair.drain(pair.b, channel: Self.ordered).isEmpty, "100 KiB cannot arrive in 2 s at 20 KB/s")
        #expect(pair.a.statistics.bandwidthLimitedTicks > 0)
        #expect(pair.a.statistics.sentBandwidth < 24_000)
        pair.run(seconds: 5)
        #expect(pair.drain(pair.b, channel: Self.ordered) == [message])
    }

    @Test func defaultBudgetMovesALargeMessageFast() throws {
        let pair = try ChannelPair()
        let message = [UInt8](repeating: 1, count: 256 * 1024)
        try pair.a.send(message, on: Self.ordered)
        var received: [[UInt8]] = []
        while received.isEmpty && pair.time < 10 {
            pair.step()
            received += pair.drain(pair.b, channel: Self.ordered)
        }
        #expect(received.count == 1)
        // Over 300 KiB/s at 60 Hz, five times what one fragment per packet would give.
        #expect(pair.time < 1.0, "took \(pair.time) s")
    }
}
