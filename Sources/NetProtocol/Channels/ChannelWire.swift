/// The channel layer's packet format (specified in docs/PROTOCOL.md). Little-endian throughout.
///
/// ```
/// header:  flags u8 | sequence u16 | [ack: diff u8 or u16] | [ack-bit bytes present in flags]
/// entries: control u8 (channel 0-5, fragment bit 6) | id u16 (all but unreliable-unordered)
///          | [fragment index u16 | fragment count u16] | length varint | bytes
/// ```
public enum ChannelWire {
    public static let maxHeaderBytes = 9
    /// Control, id, fragment index and count, a 3-byte length.
    public static let maxEntryHeaderBytes = 10

    static let flagHasAck: UInt8 = 0x01
    static let flagAckIsDifference: UInt8 = 0x02
    static let flagAckBitsShift: UInt8 = 2
    static let flagReserved: UInt8 = 0xC0
    static let entryFragment: UInt8 = 0x40
    static let entryReserved: UInt8 = 0x80
    static let entryChannelMask: UInt8 = 0x3F

    /// The acknowledgement state carried in every header: the newest packet received and, in
    /// bit i of `bits`, whether packet `ack - 1 - i` was received.
    public struct Ack: Equatable, Sendable {
        public var newest: UInt16
        public var bits: UInt32
    }

    public struct Header: Equatable, Sendable {
        public var sequence: UInt16
        public var ack: Ack?
    }

    static func write(_ header: Header, to writer: inout WireWriter) {
        var flags: UInt8 = 0
        var difference: UInt16 = 0
        if let ack = header.ack {
            flags |= flagHasAck
            difference = header.sequence &- ack.newest
            if difference <= 0xFF { flags |= flagAckIsDifference }
            for byteIndex in 0..<4 where UInt8(truncatingIfNeeded: ack.bits >> (8 * UInt32(byteIndex))) != 0xFF {
                flags |= 1 << (flagAckBitsShift + UInt8(byteIndex))
            }
        }
        writer.write(flags)
        writer.write(header.sequence)
        guard let ack = header.ack else { return }
        if flags & flagAckIsDifference != 0 { writer.write(UInt8(difference)) } else { writer.write(ack.newest) }
        for byteIndex in 0..<4 where flags & (1 << (flagAckBitsShift + UInt8(byteIndex))) != 0 {
            writer.write(UInt8(truncatingIfNeeded: ack.bits >> (8 * UInt32(byteIndex))))
        }
    }

    static func readHeader(_ reader: inout WireReader) -> Header? {
        guard let flags = reader.readUInt8(), flags & flagReserved == 0, let sequence = reader.readUInt16() else { return nil }
        guard flags & flagHasAck != 0 else {
            // Without an ack there must be no ack fields either.
            return flags == 0 ? Header(sequence: sequence, ack: nil) : nil
        }
        let newest: UInt16
        if flags & flagAckIsDifference != 0 {
            guard let difference = reader.readUInt8() else { return nil }
            newest = sequence &- UInt16(difference)
        } else {
            guard let value = reader.readUInt16() else { return nil }
            newest = value
        }
        var bits: UInt32 = 0
        for byteIndex in 0..<4 {
            var byte: UInt8 = 0xFF
            if flags & (1 << (flagAckBitsShift + UInt8(byteIndex))) != 0 {
                guard let value = reader.readUInt8() else { return nil }
                byte = value
            }
            bits |= UInt32(byte) << (8 * UInt32(byteIndex))
        }
        return Header(sequence: sequence, ack: Ack(newest: newest, bits: bits))
    }

    /// Bytes a header takes (for budgeting before writing).
    static func headerBytes(_ header: Header) -> Int {
        guard let ack = header.ack else { return 3 }
        var bytes = 3 + ((header.sequence &- ack.newest) <= 0xFF ? 1 : 2)
        for byteIndex in 0..<4 where UInt8(truncatingIfNeeded: ack.bits >> (8 * UInt32(byteIndex))) != 0xFF { bytes += 1 }
        return bytes
    }

    /// One message (or fragment) entry, as read off the wire.
    public struct Entry {
        public var channel: Int
        public var id: UInt16
        /// (index, count) for a fragment of a large message.
        public var fragment: (index: Int, count: Int)?
        public var payload: UnsafeRawBufferPointer
    }

    /// The bytes ``writeVarint(_:to:)`` takes for `value` (below 2^21).
    public static func varintBytes(_ value: Int) -> Int { value < 0x80 ? 1 : (value < 0x4000 ? 2 : 3) }

    /// A message length or id as the channel header writes it: 7 bits a byte, low first.
    public static func writeVarint(_ value: Int, to writer: inout WireWriter) {
        var remaining = value
        repeat {
            var byte = UInt8(remaining & 0x7F)
            remaining >>= 7
            if remaining != 0 { byte |= 0x80 }
            writer.write(byte)
        } while remaining != 0
    }

    /// At most three bytes (values below 2^21) and canonical (no trailing zero groups).
    static func readVarint(_ reader: inout WireReader) -> Int? {
        var value = 0
        for index in 0..<3 {
            guard let byte = reader.readUInt8() else { return nil }
            value |= Int(byte & 0x7F) << (7 * index)
            if byte & 0x80 == 0 {
                if index > 0 && byte == 0 { return nil }
                return value
            }
        }
        return nil
    }

    /// Bytes an entry header takes.
    static func entryHeaderBytes(hasID: Bool, isFragment: Bool, length: Int) -> Int {
        1 + (hasID ? 2 : 0) + (isFragment ? 4 : 0) + varintBytes(length)
    }

    static func writeEntry(
        channel: Int, id: UInt16?, fragment: (index: Int, count: Int)?, payload: UnsafeRawBufferPointer, to writer: inout WireWriter
    ) {
        writer.write(UInt8(channel) | (fragment != nil ? entryFragment : 0))
        if let id { writer.write(id) }
        if let fragment {
            writer.write(UInt16(fragment.index))
            writer.write(UInt16(fragment.count))
        }
        writeVarint(payload.count, to: &writer)
        writer.write(payload)
    }

    /// Reads an entry of a connection with `channelCount` channels, where bit `i` of
    /// `idChannels` says whether channel `i` carries ids. Nil when malformed.
    @inline(__always)
    static func readEntry(_ reader: inout WireReader, channelCount: Int, idChannels: UInt64) -> Entry? {
        guard let control = reader.readUInt8(), control & entryReserved == 0 else { return nil }
        let channel = Int(control & entryChannelMask)
        guard channel < channelCount else { return nil }
        var id: UInt16 = 0
        if idChannels & (1 << UInt64(channel)) != 0 {
            guard let value = reader.readUInt16() else { return nil }
            id = value
        }
        var fragment: (index: Int, count: Int)?
        if control & entryFragment != 0 {
            guard let index = reader.readUInt16(), let count = reader.readUInt16() else { return nil }
            fragment = (Int(index), Int(count))
        }
        guard let length = readVarint(&reader), let payload = reader.readBytes(length) else { return nil }
        return Entry(channel: channel, id: id, fragment: fragment, payload: payload)
    }
}
