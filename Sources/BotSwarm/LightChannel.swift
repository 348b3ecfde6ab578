import NetProtocol

/// The channel layer of docs/PROTOCOL.md, as much of it as a light bot needs, on the match
/// layout (channel 0 reliable-ordered, 1 reliable-unordered, 2 unreliable-unordered, 3
/// unreliable-sequenced):
///
/// - every packet it receives is acknowledged (the ack and ack bits of its next packet), so the
///   server's reliable channels, RTT and loss work as with a full client;
/// - one packet a tick goes out, with the tick's input message on channel 2 and any reliable
///   message due (first sends and resends, after the spec's resend delay) on channel 0;
/// - of what arrives, channel 3's snapshots are read for their header only (``snapshot``
///   callback), channel 0's echoes are counted once per message id, and everything else is
///   acknowledged and dropped.
///
/// A packet that does not parse is dropped and counted, never acknowledged; so is one whose
/// channel-0 entry is beyond the receive window (the spec's back-pressure: the server resends).
/// Nothing allocates per packet.
final class LightChannel {
    static let reliableChannel = 0
    static let inputChannel = 2
    static let snapshotChannel = 3
    /// The spec's fragment size: longer reliable messages would have to be fragmented, which a
    /// light bot never needs (its chat lines are short).
    static let maxReliableBytes = 384
    /// The match layout's channel-0 window (``MatchChannel``).
    static let reliableWindow = 64
    static let ipUDPOverheadBytes = 28

    private static let flagHasAck: UInt8 = 0x01
    private static let flagAckIsDifference: UInt8 = 0x02
    private static let flagReserved: UInt8 = 0xC0
    private static let entryFragment: UInt8 = 0x40
    private static let entryReserved: UInt8 = 0x80

    private struct SentPacket {
        var sequence: UInt16 = 0
        var time = 0.0
        var inUse = false
        var acked = false
        /// The channel-0 message ids it carried (at most `maxReliablePerPacket`).
        var reliableIDs: (UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0)
        var reliableCount = 0
    }
    private static let sentHistory = 256
    private static let maxReliablePerPacket = 4
    private var sent = [SentPacket](repeating: SentPacket(), count: sentHistory)
    private var sequence: UInt16 = 0

    private var hasReceived = false
    private var newestReceived: UInt16 = 0
    /// Bit j: packet `newestReceived - 1 - j` arrived.
    private var receivedBits: UInt32 = 0

    private struct Outgoing {
        var id: UInt16
        var bytes: [UInt8]
        var lastSent: Double?
        var acked = false
    }
    private var outgoing: [Outgoing] = []
    private var nextReliableID: UInt16 = 0
    /// The oldest channel-0 id not yet received, and bit i for `expected + i` received.
    private var expectedEcho: UInt16 = 0
    private var echoesAhead: UInt64 = 0

    private(set) var reliableReceived = 0
    private(set) var rtt = 0.0
    private(set) var jitter = 0.0
    private(set) var rttSamples: UInt64 = 0
    private(set) var packetsSent: UInt64 = 0
    private(set) var packetsReceived: UInt64 = 0
    /// Bytes each way with the IP and UDP headers, as ``ConnectionStatistics`` counts them.
    private(set) var bytesSent: UInt64 = 0
    private(set) var bytesReceived: UInt64 = 0
    private(set) var firstPacketAt: Double?
    private(set) var lastPacketAt = 0.0
    private(set) var malformedPackets: UInt64 = 0
    private(set) var duplicatePackets: UInt64 = 0
    private(set) var refusedPackets: UInt64 = 0

    init() { outgoing.reserveCapacity(Self.reliableWindow) }

    /// What the spec says: `rtt + 4·rtt_deviation` within 30 ms…1 s, 100 ms before a sample.
    var resendDelay: Double { rttSamples == 0 ? 0.1 : min(1, max(0.03, rtt + 4 * jitter)) }

    /// Up and down bytes per second over the connection's life so far.
    var sentBandwidth: Double { bandwidth(bytesSent) }
    var receivedBandwidth: Double { bandwidth(bytesReceived) }
    private func bandwidth(_ bytes: UInt64) -> Double {
        guard let first = firstPacketAt, lastPacketAt > first else { return 0 }
        return Double(bytes) / (lastPacketAt - first)
    }

    /// Queues a reliable message; false when it is too long or the window is full.
    func sendReliable(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, bytes.count <= Self.maxReliableBytes, outgoing.count < Self.reliableWindow else { return false }
        outgoing.append(Outgoing(id: nextReliableID, bytes: bytes))
        nextReliableID &+= 1
        return true
    }

    // MARK: - Receiving

    /// One packet from the server. `snapshot` gets the payload of each snapshot-channel message,
    /// valid only during the call.
    func handlePacket(_ packet: UnsafeRawBufferPointer, now: Double, snapshot: (UnsafeRawBufferPointer) -> Void) {
        var reader = WireReader(packet)
        guard let flags = reader.readUInt8(), flags & Self.flagReserved == 0, let packetSequence = reader.readUInt16() else {
            return malformedPackets &+= 1
        }
        var ackNewest: UInt16?
        var ackBits: UInt32 = 0
        if flags & Self.flagHasAck != 0 {
            if flags & Self.flagAckIsDifference != 0 {
                guard let difference = reader.readUInt8() else { return malformedPackets &+= 1 }
                ackNewest = packetSequence &- UInt16(difference)
            } else {
                guard let value = reader.readUInt16() else { return malformedPackets &+= 1 }
                ackNewest = value
            }
            for byteIndex in 0..<4 {
                var byte: UInt8 = 0xFF
                if flags & (1 << (2 + UInt8(byteIndex))) != 0 {
                    guard let value = reader.readUInt8() else { return malformedPackets &+= 1 }
                    byte = value
                }
                ackBits |= UInt32(byte) << (8 * UInt32(byteIndex))
            }
        } else if flags != 0 {
            return malformedPackets &+= 1
        }
        let entriesStart = reader.offset

        // Whether this packet is new, and where it goes in the ack bits (0: it is the newest).
        var behind = 0
        if hasReceived {
            let ahead = packetSequence &- newestReceived
            if ahead == 0 { return duplicatePackets &+= 1 }
            if ahead >= 0x8000 {
                behind = Int(newestReceived &- packetSequence)
                // Too old to acknowledge: as good as lost (reliable content comes again).
                guard behind <= 32 else { return duplicatePackets &+= 1 }
                if receivedBits & (1 << UInt32(behind - 1)) != 0 { return duplicatePackets &+= 1 }
            }
        }

        // All or nothing: every entry is checked before any is applied.
        var scan = reader
        while scan.remaining > 0 {
            guard let entry = Self.readEntry(&scan) else { return malformedPackets &+= 1 }
            if entry.channel == Self.reliableChannel {
                let distance = entry.id &- expectedEcho
                if distance < 0x8000 && Int(distance) >= Self.reliableWindow { return refusedPackets &+= 1 }
            }
        }

        if !hasReceived {
            hasReceived = true
            newestReceived = packetSequence
            receivedBits = 0
        } else if behind == 0 {
            let ahead = UInt64(packetSequence &- newestReceived)
            let shifted = ahead >= 33 ? 0 : ((UInt64(receivedBits) << ahead) | (1 << (ahead - 1)))
            receivedBits = UInt32(truncatingIfNeeded: shifted)
            newestReceived = packetSequence
        } else {
            receivedBits |= 1 << UInt32(behind - 1)
        }
        packetsReceived &+= 1
        bytesReceived &+= UInt64(packet.count + Self.ipUDPOverheadBytes)
        notePacket(now: now)
        if let ackNewest { acknowledge(newest: ackNewest, bits: ackBits, now: now) }

        reader = WireReader(packet, offset: entriesStart)
        while reader.remaining > 0, let entry = Self.readEntry(&reader) {
            switch entry.channel {
            case Self.snapshotChannel: snapshot(entry.payload)
            case Self.reliableChannel: receivedEcho(entry.id)
            default: break  // large snapshots (channel 1) are acknowledged but not read
            }
        }
    }

    private struct Entry {
        var channel: Int
        var id: UInt16
        var payload: UnsafeRawBufferPointer
    }

    private static func readEntry(_ reader: inout WireReader) -> Entry? {
        guard let control = reader.readUInt8(), control & entryReserved == 0 else { return nil }
        let channel = Int(control & 0x3F)
        guard channel <= snapshotChannel else { return nil }
        var id: UInt16 = 0
        if channel != inputChannel {
            guard let value = reader.readUInt16() else { return nil }
            id = value
        }
        if control & entryFragment != 0 {
            guard channel < inputChannel, let index = reader.readUInt16(), let count = reader.readUInt16(), count >= 2, index < count else { return nil }
        }
        var length = 0
        var terminated = false
        for index in 0..<3 {
            guard let byte = reader.readUInt8() else { return nil }
            length |= Int(byte & 0x7F) << (7 * index)
            if byte & 0x80 == 0 {
                if index > 0 && byte == 0 { return nil }
                terminated = true
                break
            }
        }
        guard terminated, let payload = reader.readBytes(length) else { return nil }
        return Entry(channel: channel, id: id, payload: payload)
    }

    private func receivedEcho(_ id: UInt16) {
        let distance = id &- expectedEcho
        guard distance < 0x8000, Int(distance) < Self.reliableWindow else { return }
        let bit: UInt64 = 1 << UInt64(distance)
        // Each fragment of a message carries its id: the message counts once.
        guard echoesAhead & bit == 0 else { return }
        echoesAhead |= bit
        reliableReceived += 1
        while echoesAhead & 1 != 0 {
            echoesAhead >>= 1
            expectedEcho &+= 1
        }
    }

    private func acknowledge(newest: UInt16, bits: UInt32, now: Double) {
        acknowledge(newest, now: now)
        var remaining = bits
        while remaining != 0 {
            let offset = UInt16(remaining.trailingZeroBitCount)
            acknowledge(newest &- 1 &- offset, now: now)
            remaining &= remaining - 1
        }
        while let first = outgoing.first, first.acked { outgoing.removeFirst() }
    }

    private func acknowledge(_ packetSequence: UInt16, now: Double) {
        let slot = Int(packetSequence) % Self.sentHistory
        guard sent[slot].inUse, sent[slot].sequence == packetSequence, !sent[slot].acked else { return }
        sent[slot].acked = true
        let sample = max(0, now - sent[slot].time)
        if rttSamples == 0 {
            rtt = sample
            jitter = sample / 2
        } else {
            jitter += (abs(sample - rtt) - jitter) * 0.25
            rtt += (sample - rtt) * 0.125
        }
        rttSamples &+= 1
        let packet = sent[slot]
        for index in 0..<packet.reliableCount {
            let ids = packet.reliableIDs
            let id = index == 0 ? ids.0 : index == 1 ? ids.1 : index == 2 ? ids.2 : ids.3
            if let position = outgoing.firstIndex(where: { $0.id == id }) { outgoing[position].acked = true }
        }
    }

    private func notePacket(now: Double) {
        if firstPacketAt == nil { firstPacketAt = now }
        lastPacketAt = now
    }

    // MARK: - Sending

    /// Writes this tick's packet into `buffer`: acks, the reliable messages due, and `input` on
    /// channel 2. Returns its length.
    func writePacket(into buffer: UnsafeMutableRawBufferPointer, input: UnsafeRawBufferPointer, now: Double) -> Int {
        var writer = WireWriter(buffer)
        var flags: UInt8 = 0
        let difference = sequence &- newestReceived
        if hasReceived {
            flags |= Self.flagHasAck
            if difference <= 0xFF { flags |= Self.flagAckIsDifference }
            for byteIndex in 0..<4 where UInt8(truncatingIfNeeded: receivedBits >> (8 * UInt32(byteIndex))) != 0xFF {
                flags |= 1 << (2 + UInt8(byteIndex))
            }
        }
        writer.write(flags)
        writer.write(sequence)
        if hasReceived {
            if flags & Self.flagAckIsDifference != 0 { writer.write(UInt8(difference)) } else { writer.write(newestReceived) }
            for byteIndex in 0..<4 where flags & (1 << (2 + UInt8(byteIndex))) != 0 {
                writer.write(UInt8(truncatingIfNeeded: receivedBits >> (8 * UInt32(byteIndex))))
            }
        }

        var record = SentPacket(sequence: sequence, time: now, inUse: true)
        let inputBytes = 1 + ChannelWire.varintBytes(input.count) + input.count
        if !outgoing.isEmpty {
            let delay = resendDelay
            for index in outgoing.indices where record.reliableCount < Self.maxReliablePerPacket && !outgoing[index].acked {
                if let last = outgoing[index].lastSent, now - last < delay { continue }
                let bytes = outgoing[index].bytes
                guard writer.bytes.count - writer.offset >= 3 + ChannelWire.varintBytes(bytes.count) + bytes.count + inputBytes else { break }
                writer.write(UInt8(Self.reliableChannel))
                writer.write(outgoing[index].id)
                ChannelWire.writeVarint(bytes.count, to: &writer)
                writer.write(bytes)
                outgoing[index].lastSent = now
                switch record.reliableCount {
                case 0: record.reliableIDs.0 = outgoing[index].id
                case 1: record.reliableIDs.1 = outgoing[index].id
                case 2: record.reliableIDs.2 = outgoing[index].id
                default: record.reliableIDs.3 = outgoing[index].id
                }
                record.reliableCount += 1
            }
        }
        if !input.isEmpty && writer.bytes.count - writer.offset >= inputBytes {
            writer.write(UInt8(Self.inputChannel))
            ChannelWire.writeVarint(input.count, to: &writer)
            writer.write(input)
        }
        sent[Int(sequence) % Self.sentHistory] = record
        sequence &+= 1
        packetsSent &+= 1
        bytesSent &+= UInt64(writer.offset + Self.ipUDPOverheadBytes)
        notePacket(now: now)
        return writer.offset
    }
}
