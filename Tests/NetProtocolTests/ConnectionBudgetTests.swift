@testable import NetProtocol
import Testing

/// A peer with a valid connection drives every queue and reassembly path to its limit: what the
/// connection holds never passes its budget (nor the shared pool), the peer is back-pressured,
/// and a peer that keeps it pressed is faulted `over_budget`.
@Suite struct ConnectionBudgetTests {
    /// A match-like configuration with a small budget, so the limits are reached quickly.
    func configuration(budget: Int = 256 * 1024) -> ConnectionConfiguration {
        ConnectionConfiguration(
            channels: [
                ChannelConfiguration(kind: .reliableOrdered, sendQueueSize: 64, receiveQueueSize: 64, maxMessageBytes: 8 * 1024),
                ChannelConfiguration(kind: .reliableUnordered, sendQueueSize: 16, receiveQueueSize: 16, maxMessageBytes: 32 * 1024),
                ChannelConfiguration(kind: .unreliableUnordered, sendQueueSize: 8, receiveQueueSize: 8, maxMessageBytes: 1200),
                ChannelConfiguration(kind: .unreliableSequenced, sendQueueSize: 8, receiveQueueSize: 8, maxMessageBytes: 1200),
            ],
            sentPacketHistory: 128, receivedPacketHistory: 128, maxReassemblyBytes: 1024 * 1024, memoryBudgetBytes: budget)
    }

    func packet(sequence: UInt16, _ entries: [(channel: Int, id: UInt16?, fragment: (Int, Int)?, payload: [UInt8])]) -> [UInt8] {
        RawChannelPacket.encode(
            sequence: sequence, ack: nil,
            entries: entries.map { RawChannelPacket.Entry(channel: $0.channel, id: $0.id, fragment: $0.fragment.map { (index: $0.0, count: $0.1) }, payload: $0.payload) }, capacity: 4096)
    }

    /// The packets that carry 8 KiB message `id` on `channel`, three fragments each (22 in all).
    func largeMessagePackets(id: UInt16, channel: Int = 0, sequence: inout UInt16, skipLast: Bool = false) -> [[UInt8]] {
        let fragments = (0..<(skipLast ? 21 : 22)).map { index in
            (channel: channel, id: UInt16?(id), fragment: (Int, Int)?((index, 22)), payload: [UInt8](repeating: 7, count: index == 21 ? 128 : 384))
        }
        return stride(from: 0, to: fragments.count, by: 3).map { start in
            defer { sequence &+= 1 }
            return packet(sequence: sequence, Array(fragments[start..<min(start + 3, fragments.count)]))
        }
    }

    /// 8 KiB messages 1, 2, 3, ... on the ordered channel with id 0 held back: each finished
    /// message waits for the one that never comes.
    @Test func finishedMessagesWaitingForAHeldBackIDStayWithinTheBudget() throws {
        let budget = 256 * 1024
        let server = try ChannelConnection(configuration: configuration(budget: budget))
        var sequence: UInt16 = 0
        var time = 0.0
        var id: UInt16 = 1
        var refusedAt: Double?
        while server.fault == nil && time < 10 {
            for bytes in largeMessagePackets(id: id, sequence: &sequence) {
                server.handlePacket(bytes, now: time)
                #expect(server.heldBytes <= budget)
            }
            if refusedAt == nil && server.statistics.overBudgetPackets > 0 { refusedAt = time }
            id = id >= 63 ? 1 : id + 1
            time += 1.0 / 60
        }
        #expect(server.fault == .overBudget)
        // Faulted once the grace period (2 s) after the first refusal had passed, not later.
        let first = try #require(refusedAt)
        #expect(time - first > 2 && time - first < 2.5)
    }

    /// Holding channel 0 back while channel 1 keeps delivering does not keep the connection:
    /// each channel's refusals are timed on their own.
    @Test func deliveryOnAnotherChannelDoesNotExcuseAHeldBackOne() throws {
        let server = try ChannelConnection(configuration: configuration(budget: 256 * 1024))
        var sequence: UInt16 = 0
        var time = 0.0
        var id: UInt16 = 1
        var unordered: UInt16 = 0
        while server.fault == nil && time < 10 {
            for bytes in largeMessagePackets(id: id, sequence: &sequence) { server.handlePacket(bytes, now: time) }
            // A small message on the unordered channel every tick, always delivered.
            server.handlePacket(packet(sequence: sequence, [(1, unordered, nil, [1, 2, 3])]), now: time)
            sequence &+= 1
            unordered &+= 1
            while server.receive(on: 1) != nil {}
            id = id >= 63 ? 1 : id + 1
            time += 1.0 / 60
        }
        #expect(server.fault == .overBudget)
        #expect(time < 6)
    }

    /// The held-back id finally arrives: the window drains although it was full, and nothing
    /// is faulted (the head of line is taken from headroom even out of a refused packet).
    @Test func aFullWindowDrainsOnceTheMissingMessageArrives() throws {
        let server = try ChannelConnection(configuration: configuration(budget: 256 * 1024))
        var sequence: UInt16 = 0
        for id in 1..<40 as Range<UInt16> {
            for bytes in largeMessagePackets(id: id, sequence: &sequence) { server.handlePacket(bytes, now: 0) }
        }
        #expect(server.statistics.overBudgetPackets > 0)
        for bytes in largeMessagePackets(id: 0, sequence: &sequence) { server.handlePacket(bytes, now: 0.5) }
        var delivered = 0
        while server.receive(on: 0) != nil { delivered += 1 }
        #expect(delivered >= 2)
        #expect(server.fault == nil)
    }

    /// The first fragment of one large message after another, none ever finished.
    @Test func unfinishedReassembliesStayWithinTheBudget() throws {
        let budget = 256 * 1024
        let server = try ChannelConnection(configuration: configuration(budget: budget))
        var time = 0.0
        var sequence: UInt16 = 0
        for id in 0..<16 as Range<UInt16> {
            // 32 KiB messages on the unordered channel: 86 fragments each, only the first sent.
            server.handlePacket(packet(sequence: sequence, [(1, id, (0, 86), [UInt8](repeating: 1, count: 384))]), now: time)
            #expect(server.heldBytes <= budget)
            sequence &+= 1
        }
        #expect(server.statistics.overBudgetPackets > 0)
        while server.fault == nil && time < 10 {
            server.handlePacket(packet(sequence: sequence, [(1, 15, (0, 86), [UInt8](repeating: 1, count: 384))]), now: time)
            sequence &+= 1
            time += 0.1
        }
        #expect(server.fault == .overBudget)
    }

    /// The peer sends reliable messages that we echo, and never acknowledges anything: the echo
    /// queue fills to the budget and sending refuses, typed, instead of growing.
    @Test func echoesToAPeerThatNeverAcknowledgesStayWithinTheBudget() throws {
        let budget = 256 * 1024
        let server = try ChannelConnection(configuration: configuration(budget: budget))
        var refused = 0
        for index in 0..<200 {
            let message = [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 4000)
            if server.canSend(message.count, on: 0) {
                try server.send(message, on: 0)
            } else {
                refused += 1
                #expect(throws: ChannelSendError.self) { try server.send(message, on: 0) }
            }
            server.generatePackets(now: Double(index) / 60) { _ in }
            #expect(server.heldBytes <= budget)
        }
        #expect(refused > 0)
    }

    /// Messages on a channel the application never reads are held only within the budget.
    @Test func anUnreadChannelIsNotBufferedWithoutBound() throws {
        let budget = 256 * 1024
        let server = try ChannelConnection(configuration: configuration(budget: budget))
        var sequence: UInt16 = 0
        for round in 0..<400 {
            let id = UInt16(truncatingIfNeeded: round)
            server.handlePacket(packet(sequence: sequence, [(3, id, nil, [UInt8](repeating: 3, count: 1000))]), now: Double(round) / 60)
            server.handlePacket(packet(sequence: sequence &+ 1, [(2, nil, nil, [UInt8](repeating: 2, count: 1000))]), now: Double(round) / 60)
            sequence &+= 2
            #expect(server.heldBytes <= budget)
        }
        #expect(server.fault == nil)
    }

    /// Many connections sharing a pool never hold more than the pool together; a connection
    /// gives its bytes back when it goes away.
    @Test func connectionsSharingAPoolStayWithinIt() throws {
        let pool = ChannelMemoryPool(limitBytes: 600 * 1024)
        var connections: [ChannelConnection] = []
        for _ in 0..<8 { connections.append(try ChannelConnection(configuration: configuration(budget: 192 * 1024), pool: pool)) }
        for (index, connection) in connections.enumerated() {
            var sequence: UInt16 = 0
            for id in 1..<20 as Range<UInt16> {
                for bytes in largeMessagePackets(id: id, sequence: &sequence) {
                    connection.handlePacket(bytes, now: Double(index))
                    #expect(pool.usedBytes <= pool.limitBytes)
                }
            }
        }
        #expect(pool.usedBytes == connections.reduce(0) { $0 + $1.heldBytes })
        #expect(connections.last?.statistics.overBudgetPackets ?? 0 > 0)
        connections.removeAll()
        #expect(pool.usedBytes == 0)
    }

    /// An honest peer over a lossy link that fills its gap in time is never faulted, even while
    /// large messages keep the connection near its budget.
    @Test func anHonestPeerOnALossyLinkIsNotFaulted() throws {
        let harness = try ChannelPair(configuration: configuration(budget: 256 * 1024), conditions: LinkConditions(latency: 0.05, jitter: 0.01, loss: 0.2), seed: 11)
        var delivered = 0
        for tick in 0..<1200 {
            if tick % 4 == 0 { _ = try? harness.a.send([UInt8](repeating: UInt8(tick % 251), count: 6000), on: 0) }
            harness.step()
            while harness.b.receive(on: 0) != nil { delivered += 1 }
            #expect(harness.b.heldBytes <= 256 * 1024)
        }
        #expect(harness.a.fault == nil && harness.b.fault == nil)
        #expect(delivered > 200)
    }

    /// A deep queue of large messages (the in-flight index, not a scan) still delivers all of
    /// them, in order, and frees every one once acknowledged.
    @Test func largeQueuesStillDeliverEverythingInOrder() throws {
        var configuration = configuration(budget: 1024 * 1024)
        configuration.budgetBytesPerTick = 64 * 1024
        let harness = try ChannelPair(configuration: configuration, conditions: .perfect, seed: 3)
        let messages = (0..<60).map { index in [UInt8](repeating: UInt8(index), count: 8 * 1024) }
        var next = 0
        var received: [[UInt8]] = []
        for _ in 0..<600 {
            // As deep as the send share allows: the rest waits (typed back-pressure, not growth).
            while next < messages.count && harness.a.canSend(messages[next].count, on: 0) {
                try harness.a.send(messages[next], on: 0)
                next += 1
            }
            harness.step()
            while let message = harness.b.receive(on: 0) { received.append(message) }
        }
        #expect(received == messages)
        #expect(harness.a.unacknowledgedCount(on: 0) == 0)
    }
}
