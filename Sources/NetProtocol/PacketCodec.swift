/// Reads and writes netcode 1.02 packets of types 1-6 (the encrypted ones):
/// `prefix | sequence (1-8 bytes LE) | ChaCha20-Poly1305(body) | tag`.
///
/// One codec per endpoint; it owns the 22-byte associated-data buffer so nothing is allocated
/// per packet.
public final class PacketCodec {
    public let protocolID: UInt64
    private let additionalData: UnsafeMutableRawBufferPointer

    public init(protocolID: UInt64) {
        self.protocolID = protocolID
        additionalData = UnsafeMutableRawBufferPointer.allocate(byteCount: 22, alignment: 8)
        var writer = WireWriter(additionalData)
        writer.write(Netcode.versionInfo)
        writer.write(protocolID)
        writer.write(UInt8(0))
    }

    deinit { additionalData.deallocate() }

    /// Bytes used by the sequence number: the fewest that hold it, at least one.
    @inline(__always)
    public static func sequenceBytes(_ sequence: UInt64) -> Int {
        max(1, (64 - sequence.leadingZeroBitCount + 7) / 8)
    }

    /// Where the body starts in a packet with this sequence.
    @inline(__always)
    public static func bodyOffset(sequence: UInt64) -> Int { 1 + sequenceBytes(sequence) }

    /// Finishes a packet whose body the caller already wrote at `bodyOffset(sequence:)` in
    /// `buffer`: writes prefix and sequence, seals the body in place. Returns the datagram length.
    public func seal(
        _ buffer: UnsafeMutableRawBufferPointer, type: PacketType, sequence: UInt64, bodyLength: Int, key: SymmetricKey
    ) -> Int {
        let sequenceBytes = Self.sequenceBytes(sequence)
        let bodyOffset = 1 + sequenceBytes
        precondition(type != .connectionRequest && buffer.count >= bodyOffset + bodyLength + Sodium.macBytes)
        let prefix = UInt8(sequenceBytes << 4) | type.rawValue
        buffer[0] = prefix
        var value = sequence
        for index in 0..<sequenceBytes {
            buffer[1 + index] = UInt8(truncatingIfNeeded: value)
            value >>= 8
        }
        additionalData[21] = prefix
        withPacketNonce(sequence) { nonce in
            Sodium.sealChaCha20Poly1305(
                buffer.baseAddress! + bodyOffset, length: bodyLength,
                additionalData: UnsafeRawBufferPointer(additionalData), nonce: nonce, key: key)
        }
        return bodyOffset + bodyLength + Sodium.macBytes
    }

    /// Writes a whole packet from a body held elsewhere (tests and tools).
    public func write(type: PacketType, sequence: UInt64, body: [UInt8], key: SymmetricKey) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.bodyOffset(sequence: sequence) + body.count + Sodium.macBytes)
        out.withUnsafeMutableBytes { raw in
            let offset = Self.bodyOffset(sequence: sequence)
            body.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: raw[offset..<offset + body.count]).copyMemory(from: $0) }
            _ = seal(raw, type: type, sequence: sequence, bodyLength: body.count, key: key)
        }
        return out
    }

    /// The header of an encrypted packet, read without decrypting.
    public struct Header: Sendable, Equatable {
        public var type: PacketType
        public var sequence: UInt64
        public var bodyOffset: Int
    }

    /// Reads prefix and sequence; nil (with the reason) for anything malformed.
    public static func readHeader(_ datagram: UnsafeRawBufferPointer) -> Result<Header, DropReason> {
        guard datagram.count >= 18 else { return .failure(.tooShort) }
        let prefix = datagram[0]
        guard let type = PacketType(rawValue: prefix & 0x0f), type != .connectionRequest else {
            return .failure(.invalidPacketType)
        }
        let sequenceBytes = Int(prefix >> 4)
        guard (1...8).contains(sequenceBytes) else { return .failure(.invalidSequenceBytes) }
        guard datagram.count >= 1 + sequenceBytes + Sodium.macBytes else { return .failure(.tooShort) }
        var sequence: UInt64 = 0
        for index in 0..<sequenceBytes {
            sequence |= UInt64(datagram[1 + index]) << (8 * UInt64(index))
        }
        return .success(Header(type: type, sequence: sequence, bodyOffset: 1 + sequenceBytes))
    }

    /// Opens the body of `packet` in place. Returns the body length, or nil if it fails to
    /// authenticate.
    public func open(_ packet: UnsafeMutableRawBufferPointer, header: Header, key: SymmetricKey) -> Int? {
        additionalData[21] = packet[0]
        return withPacketNonce(header.sequence) { nonce in
            Sodium.openChaCha20Poly1305(
                packet.baseAddress! + header.bodyOffset, length: packet.count - header.bodyOffset,
                additionalData: UnsafeRawBufferPointer(additionalData), nonce: nonce, key: key)
        }
    }

    /// The body length each packet type must have; payload is checked against 1...1200.
    public static func isValidBodyLength(_ length: Int, for type: PacketType) -> Bool {
        switch type {
        case .connectionRequest: false
        case .connectionDenied, .disconnect: length == 0
        case .connectionChallenge, .connectionResponse: length == 8 + Netcode.challengeTokenBytes
        case .keepAlive: length == 8
        case .payload: length >= 1 && length <= Netcode.maxPayloadBytes
        }
    }
}
