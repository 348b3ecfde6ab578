/// Writes values of any bit width, least significant bit first, into a growing byte array.
public struct BitWriter {
    public private(set) var bytes: [UInt8] = []
    private var scratch: UInt64 = 0
    private var scratchBits = 0

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func write(_ value: UInt64, bits: Int) {
        precondition(bits >= 0 && bits <= 32 && (bits == 64 || value >> UInt64(bits) == 0), "value does not fit in \(bits) bits")
        scratch |= value << UInt64(scratchBits)
        scratchBits += bits
        while scratchBits >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: scratch))
            scratch >>= 8
            scratchBits -= 8
        }
    }

    public mutating func write(_ flag: Bool) { write(flag ? 1 : 0, bits: 1) }

    /// Writes a signed value in `bits` bits (two's complement); the caller ensures it fits.
    public mutating func writeSigned(_ value: Int64, bits: Int) {
        write(UInt64(bitPattern: value) & ((1 << UInt64(bits)) - 1), bits: bits)
    }

    public var bitCount: Int { bytes.count * 8 + scratchBits }

    /// Empties the writer, keeping its storage.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        scratch = 0
        scratchBits = 0
    }

    /// The bytes as a new array (the writer keeps its storage for the next use).
    public mutating func finishCopy() -> [UInt8] {
        if scratchBits > 0 {
            bytes.append(UInt8(truncatingIfNeeded: scratch))
            scratch = 0
            scratchBits = 0
        }
        // A real copy: the writer's own buffer is reset and reused after this returns.
        return bytes.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: source.count) { target, initialized in
                initialized = target.initialize(fromContentsOf: source)
            }
        }
    }

    /// The bytes, the last one padded with zero bits.
    public mutating func finish() -> [UInt8] {
        if scratchBits > 0 {
            bytes.append(UInt8(truncatingIfNeeded: scratch))
            scratch = 0
            scratchBits = 0
        }
        return bytes
    }
}

/// Reads what ``BitWriter`` wrote. Every read is bounds-checked: reading past the end returns nil
/// and the reader stays failed, so hostile input can never read out of bounds.
public struct BitReader {
    private let bytes: [UInt8]
    private var position = 0
    public private(set) var failed = false

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var remainingBits: Int { bytes.count * 8 - position }

    public mutating func read(bits: Int) -> UInt64? {
        guard !failed, bits >= 0, bits <= 32, remainingBits >= bits else {
            failed = true
            return nil
        }
        var value: UInt64 = 0
        var written = 0
        while written < bits {
            let byte = UInt64(bytes[position >> 3])
            let offset = position & 7
            let take = min(8 - offset, bits - written)
            value |= ((byte >> UInt64(offset)) & ((1 << UInt64(take)) - 1)) << UInt64(written)
            written += take
            position += take
        }
        return value
    }

    public mutating func readBool() -> Bool? { read(bits: 1).map { $0 == 1 } }

    public mutating func readSigned(bits: Int) -> Int64? {
        guard let raw = read(bits: bits) else { return nil }
        let shift = UInt64(64 - bits)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }
}
