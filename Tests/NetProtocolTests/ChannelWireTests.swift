@testable import NetProtocol
import Testing

/// Known answers for our own channel format, as docs/PROTOCOL.md specifies it.
@Suite struct ChannelWireTests {
    func encode(_ header: ChannelWire.Header, entries: [(Int, UInt16?, (Int, Int)?, [UInt8])] = []) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 1300)
        let length = bytes.withUnsafeMutableBytes { raw -> Int in
            var writer = WireWriter(raw)
            ChannelWire.write(header, to: &writer)
            for (channel, id, fragment, payload) in entries {
                payload.withUnsafeBytes {
                    ChannelWire.writeEntry(channel: channel, id: id, fragment: fragment.map { (index: $0.0, count: $0.1) }, payload: $0, to: &writer)
                }
            }
            return writer.offset
        }
        return Array(bytes.prefix(length))
    }

    @Test func theWorkedExampleFromTheSpecification() {
        let header = ChannelWire.Header(sequence: 0x0102, ack: .init(newest: 0x0100, bits: 0xFFFF_FFFF))
        #expect(encode(header, entries: [(0, 7, nil, Array("hi".utf8))]) == [0x03, 0x02, 0x01, 0x02, 0x00, 0x07, 0x00, 0x02, 0x68, 0x69])
    }

    @Test func headersRoundTripInEveryShape() {
        let cases: [ChannelWire.Header] = [
            .init(sequence: 0, ack: nil),
            .init(sequence: 5, ack: .init(newest: 4, bits: 0xFFFF_FFFF)),
            .init(sequence: 3, ack: .init(newest: 65530, bits: 0)),
            .init(sequence: 1000, ack: .init(newest: 10, bits: 0x00FF_00FF)),
            .init(sequence: 65535, ack: .init(newest: 65535, bits: 0x1234_5678)),
        ]
        for header in cases {
            let bytes = encode(header)
            #expect(bytes.count == ChannelWire.headerBytes(header))
            let decoded = bytes.withUnsafeBytes { raw -> ChannelWire.Header? in
                var reader = WireReader(raw)
                return ChannelWire.readHeader(&reader)
            }
            #expect(decoded == header)
        }
        // Healthy link: 4 bytes. Worst case: 9.
        #expect(encode(cases[1]).count == 4)
        #expect(encode(.init(sequence: 1000, ack: .init(newest: 10, bits: 0))).count == 9)
    }

    @Test func fragmentEntriesAndVarints() {
        let payload = [UInt8](repeating: 9, count: 300)
        let bytes = encode(.init(sequence: 1, ack: nil), entries: [(1, 513, (2, 7), payload), (2, nil, nil, [])])
        // flags, seq(2) | control 0x41, id 01 02, index 02 00, count 07 00, length ac 02 (300) | control 02, length 00
        #expect(Array(bytes.prefix(12)) == [0x00, 0x01, 0x00, 0x41, 0x01, 0x02, 0x02, 0x00, 0x07, 0x00, 0xAC, 0x02])
        #expect(Array(bytes.suffix(2)) == [0x02, 0x00])
        #expect(bytes.count == 3 + 9 + 300 + 2)
    }
}
