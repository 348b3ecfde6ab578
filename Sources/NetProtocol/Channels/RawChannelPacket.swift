/// Writes a channel packet field by field, with no connection behind it: for tests, fuzz seeds
/// and the load tester's hostile clients, which must send what a correct connection never
/// would (ids held back, reassemblies never finished, acknowledgements withheld).
public enum RawChannelPacket {
    public struct Entry: Sendable {
        public var channel: Int
        /// The message id (nil on unreliable-unordered channels, which carry none).
        public var id: UInt16?
        public var fragment: (index: Int, count: Int)?
        public var payload: [UInt8]

        public init(channel: Int, id: UInt16?, fragment: (index: Int, count: Int)? = nil, payload: [UInt8]) {
            self.channel = channel
            self.id = id
            self.fragment = fragment
            self.payload = payload
        }
    }

    /// The packet's bytes (at most `capacity`; entries that do not fit are left out).
    public static func encode(sequence: UInt16, ack: ChannelWire.Ack?, entries: [Entry], capacity: Int = Netcode.maxPayloadBytes) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: capacity)
        let length = bytes.withUnsafeMutableBytes { raw -> Int in
            var writer = WireWriter(raw)
            ChannelWire.write(ChannelWire.Header(sequence: sequence, ack: ack), to: &writer)
            for entry in entries {
                let needed = ChannelWire.entryHeaderBytes(hasID: entry.id != nil, isFragment: entry.fragment != nil, length: entry.payload.count)
                guard writer.offset + needed + entry.payload.count <= capacity else { break }
                entry.payload.withUnsafeBytes { payload in
                    ChannelWire.writeEntry(channel: entry.channel, id: entry.id, fragment: entry.fragment, payload: payload, to: &writer)
                }
            }
            return writer.offset
        }
        return Array(bytes.prefix(length))
    }
}
