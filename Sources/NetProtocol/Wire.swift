/// Bounds-checked little-endian reads from untrusted bytes. Every read returns nil rather than
/// touching memory past the end.
public struct WireReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset: Int

    public init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var remaining: Int { bytes.count - offset }

    public mutating func readUInt8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readUInt16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    public mutating func readUInt32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    public mutating func readUInt64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// A view of the next `count` bytes (not a copy).
    public mutating func readBytes(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
    }

    public mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, remaining >= count else { return false }
        offset += count
        return true
    }
}

/// Little-endian writes into memory the caller sized. Running out of room is a programming
/// error in this process (every packet has a fixed maximum), so it traps.
public struct WireWriter {
    public let bytes: UnsafeMutableRawBufferPointer
    public private(set) var offset: Int

    public init(_ bytes: UnsafeMutableRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public mutating func write(_ value: UInt8) {
        precondition(bytes.count - offset >= 1, "WireWriter overflow")
        bytes[offset] = value
        offset += 1
    }

    public mutating func write(_ value: UInt16) {
        precondition(bytes.count - offset >= 2, "WireWriter overflow")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
        offset += 2
    }

    public mutating func write(_ value: UInt32) {
        precondition(bytes.count - offset >= 4, "WireWriter overflow")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
        offset += 4
    }

    public mutating func write(_ value: UInt64) {
        precondition(bytes.count - offset >= 8, "WireWriter overflow")
        bytes.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
        offset += 8
    }

    public mutating func write(_ source: UnsafeRawBufferPointer) {
        precondition(bytes.count - offset >= source.count, "WireWriter overflow")
        if let base = source.baseAddress, source.count > 0 {
            (bytes.baseAddress! + offset).copyMemory(from: base, byteCount: source.count)
        }
        offset += source.count
    }

    public mutating func write(_ source: [UInt8]) {
        source.withUnsafeBytes { write($0) }
    }

    public mutating func write(_ key: SymmetricKey) {
        key.withUnsafeBytes { write($0) }
    }

    /// Writes `count` zero bytes.
    public mutating func writeZeros(_ count: Int) {
        precondition(count >= 0 && bytes.count - offset >= count, "WireWriter overflow")
        if count > 0 { (bytes.baseAddress! + offset).initializeMemory(as: UInt8.self, repeating: 0, count: count) }
        offset += count
    }
}
