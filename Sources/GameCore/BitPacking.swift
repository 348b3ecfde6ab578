/// Writes values of any bit width, least significant bit first, into a growing byte array.
///
/// Bits gather in a 64-bit word that goes to the array eight bytes at a time: one append per
/// word rather than one per byte (each append checks the array's uniqueness at run time).
public struct BitWriter {
    @usableFromInline var storage: [UInt8] = []
    @usableFromInline var scratch: UInt64 = 0
    @usableFromInline var scratchBits = 0

    public init(capacity: Int = 256) { storage.reserveCapacity(capacity) }

    /// Every byte written so far, the last one padded with zero bits.
    public var bytes: [UInt8] {
        var copy = self
        copy.flushPartial()
        return copy.storage
    }

    @inlinable
    public mutating func write(_ value: UInt64, bits: Int) {
        precondition(bits >= 0 && bits <= 32 && value >> UInt64(bits) == 0, "value does not fit in \(bits) bits")
        let free = 64 - scratchBits
        if bits < free {
            scratch |= value << UInt64(scratchBits)
            scratchBits += bits
            return
        }
        // The word fills up: its low part takes what fits, the rest starts the next word.
        scratch |= value << UInt64(scratchBits)
        withUnsafeBytes(of: scratch.littleEndian) { storage.append(contentsOf: $0) }
        scratch = free == 64 ? 0 : value >> UInt64(free)
        scratchBits = bits - free
    }

    @inlinable
    public mutating func write(_ flag: Bool) { write(flag ? 1 : 0, bits: 1) }

    /// Writes a signed value in `bits` bits (two's complement); the caller ensures it fits.
    @inlinable
    public mutating func writeSigned(_ value: Int64, bits: Int) {
        write(UInt64(bitPattern: value) & ((1 << UInt64(bits)) - 1), bits: bits)
    }

    public var bitCount: Int { storage.count * 8 + scratchBits }

    /// Empties the writer, keeping its storage.
    public mutating func reset() {
        storage.removeAll(keepingCapacity: true)
        scratch = 0
        scratchBits = 0
    }

    /// Moves the partial word's whole bytes (and a last, padded one) to the array.
    @usableFromInline mutating func flushPartial() {
        var remaining = scratchBits
        while remaining > 0 {
            storage.append(UInt8(truncatingIfNeeded: scratch))
            scratch >>= 8
            remaining -= 8
        }
        scratch = 0
        scratchBits = 0
    }

    /// The bytes as a new array (the writer keeps its storage for the next use).
    public mutating func finishCopy() -> [UInt8] {
        flushPartial()
        // A real copy: the writer's own buffer is reset and reused after this returns.
        return storage.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: source.count) { target, initialized in
                initialized = target.initialize(fromContentsOf: source)
            }
        }
    }

    /// The bytes, the last one padded with zero bits.
    public mutating func finish() -> [UInt8] {
        flushPartial()
        return storage
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
