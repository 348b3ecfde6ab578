@testable import NetProtocol
import Testing

/// Hostile channel packets: the connection closes with a typed reason or drops the packet, and
/// nothing crashes or grows without bound.
@Suite struct ChannelHostileInputTests {
    /// Builds a packet with the given entries after a plain header.
    func packet(sequence: UInt16 = 0, _ entries: [(channel: Int, id: UInt16?, fragment: (Int, Int)?, payload: [UInt8])]) -> [UInt8] {
        RawChannelPacket.encode(
            sequence: sequence, ack: nil,
            entries: entries.map { RawChannelPacket.Entry(channel: $0.channel, id: $0.id, fragment: $0.fragment.map { (index: $0.0, count: $0.1) }, payload: $0.payload) }, capacity: 64 * 1024)
    }

    func expectFault(_ bytes: [UInt8], _ expected: ChannelFault) throws {
        let connection = try ChannelConnection()
        connection.handlePacket(bytes, now: 0)
        #expect(connection.fault == expected)
        #expect(throws: ChannelSendError.connectionFaulted) { try connection.send([1], on: 0) }
    }

    @Test func unknownChannel() throws {
        try expectFault(packet([(9, 0, nil, [1])]), .malformedPacket)
    }

    @Test func idFarOutsideTheWindow() throws {
        try expectFault(packet([(0, 5000, nil, [1])]), .messageIDOutsideWindow(channel: 0, id: 5000))
    }

    @Test func idsJustBeyondTheReceiveQueueArePushedBackNotFaulted() throws {
        let connection = try ChannelConnection()
        connection.handlePacket(packet([(0, 1500, nil, [1])]), now: 0)
        #expect(connection.fault == nil)
        #expect(connection.statistics.backPressuredPackets == 1)
    }

    @Test(arguments: [(0, 0), (2, 2), (0, 1), (0, 70_000 / 384 + 2000)])
    func impossibleFragmentFields(index: Int, count: Int) throws {
        try expectFault(packet([(0, 0, (index, min(count, 65535)), [UInt8](repeating: 0, count: 384))]), .invalidFragment(channel: 0))
    }

    @Test func fragmentOfTheWrongSize() throws {
        try expectFault(packet([(0, 0, (0, 3), [UInt8](repeating: 0, count: 100))]), .invalidFragment(channel: 0))
        try expectFault(packet([(0, 0, (2, 3), [UInt8](repeating: 0, count: 385))]), .invalidFragment(channel: 0))
    }

    @Test func fragmentsThatDisagree() throws {
        let connection = try ChannelConnection()
        connection.handlePacket(packet(sequence: 0, [(0, 0, (0, 3), [UInt8](repeating: 0, count: 384))]), now: 0)
        #expect(connection.fault == nil)
        connection.handlePacket(packet(sequence: 1, [(0, 0, (1, 4), [UInt8](repeating: 0, count: 384))]), now: 0)
        #expect(connection.fault == .inconsistentFragments(channel: 0, id: 0))
    }

    @Test func fragmentOnAnUnreliableChannel() throws {
        try expectFault(packet([(3, 0, (0, 2), [UInt8](repeating: 0, count: 384))]), .invalidFragment(channel: 3))
    }

    @Test func oversizedWholeMessage() throws {
        try expectFault(packet([(0, 0, nil, [UInt8](repeating: 0, count: 385))]), .oversizedMessage(channel: 0, bytes: 385))
    }

    @Test func abandonedReassembliesStayBounded() throws {
        // The peer opens many large messages and never finishes any: memory stops at the
        // configured bound and further packets are refused (not acked), not faulted.
        var configuration = ConnectionConfiguration()
        configuration.maxReassemblyBytes = 1024 * 1024
        let connection = try ChannelConnection(configuration: configuration)
        for id in 0..<100 {
            connection.handlePacket(packet(sequence: UInt16(id), [(0, UInt16(id), (0, 400), [UInt8](repeating: 0, count: 384))]), now: 0)
        }
        #expect(connection.fault == nil)
        #expect(connection.statistics.backPressuredPackets > 90)
        #expect(connection.receive(on: 0) == nil)
    }

    @Test func malformedHeadersAndVarints() throws {
        try expectFault([0xC0, 0, 0], .malformedPacket)  // reserved flag bits
        try expectFault([0x00, 0], .malformedPacket)  // truncated sequence
        try expectFault([0x00, 0, 0, 0x00, 0, 0, 0x80, 0x80, 0x80, 0x01], .malformedPacket)  // four-byte varint
        try expectFault([0x00, 0, 0, 0x00, 0, 0, 0x85, 0x00], .malformedPacket)  // non-canonical varint
        try expectFault([0x00, 0, 0, 0x00, 0, 0, 0x10], .malformedPacket)  // length past the end
        try expectFault([0x02, 0, 0], .malformedPacket)  // ack flags without the ack bit
    }

    @Test func everyTruncationOfARealPacketIsHandled() throws {
        let pair = try ChannelPair()
        var captured: [[UInt8]] = []
        pair.intoB = { packet in
            captured.append(packet)
            return packet
        }
        try pair.a.send([UInt8](repeating: 3, count: 2000), on: 0)
        try pair.a.send([1, 2, 3], on: 1)
        try pair.a.send([4, 5], on: 2)
        try pair.a.send([6], on: 3)
        pair.run(seconds: 0.2)
        #expect(!captured.isEmpty)
        var faulted = 0
        var clean = 0
        for packet in captured {
            for length in 0..<packet.count {
                let connection = try ChannelConnection()
                connection.handlePacket(Array(packet.prefix(length)), now: 0)
                // Either a clean prefix (it ends at an entry boundary) or malformed: a truncation
                // can never look like any other violation.
                if let fault = connection.fault {
                    #expect(fault == .malformedPacket)
                    faulted += 1
                } else {
                    clean += 1
                }
            }
        }
        #expect(faulted > clean)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func randomPacketsNeverCrash(seed: UInt64) throws {
        var random = SeededRandomSource(seed: seed)
        var faults = 0
        for _ in 0..<5000 {
            let connection = try ChannelConnection()
            var bytes = [UInt8](repeating: 0, count: Int(random.next() % 1300))
            bytes.withUnsafeMutableBytes { random.fill($0) }
            if bytes.count > 3 && random.next() % 2 == 0 { bytes[0] &= 0x3F }
            connection.handlePacket(bytes, now: 0)
            if connection.fault != nil { faults += 1 }
            for channel in 0..<4 { _ = connection.receive(on: channel) }
            connection.generatePackets(now: 0) { _ in }
        }
        #expect(faults > 0)
    }
}
