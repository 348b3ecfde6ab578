import CSodium

/// A 32-byte secret key held in its own memory, wiped when the last reference goes away.
///
/// Immutable after creation, so instances may be shared across threads. Equality compares in
/// constant time.
public final class SymmetricKey: @unchecked Sendable, Equatable {
    private let storage: UnsafeMutableRawPointer

    /// A key copied from exactly 32 bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Sodium.keyBytes else { return nil }
        storage = UnsafeMutableRawPointer.allocate(byteCount: Sodium.keyBytes, alignment: 16)
        var index = 0
        for byte in bytes {
            storage.storeBytes(of: byte, toByteOffset: index, as: UInt8.self)
            index += 1
        }
    }

    /// A key copied from exactly 32 bytes of raw memory.
    public init?(raw: UnsafeRawBufferPointer) {
        guard raw.count == Sodium.keyBytes, let base = raw.baseAddress else { return nil }
        storage = UnsafeMutableRawPointer.allocate(byteCount: Sodium.keyBytes, alignment: 16)
        storage.copyMemory(from: base, byteCount: Sodium.keyBytes)
    }

    /// A fresh key drawn from `random`.
    public init(random: inout some SecureRandomSource) {
        storage = UnsafeMutableRawPointer.allocate(byteCount: Sodium.keyBytes, alignment: 16)
        random.fill(UnsafeMutableRawBufferPointer(start: storage, count: Sodium.keyBytes))
    }

    /// A key parsed from exactly 64 hexadecimal digits.
    public convenience init?(hex: String) {
        guard hex.utf8.count == Sodium.keyBytes * 2, let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    deinit {
        Sodium.wipe(storage, count: Sodium.keyBytes)
        storage.deallocate()
    }

    /// Lends the key's bytes to `body`. The pointer must not escape.
    @inline(__always)
    public func withUnsafeKeyPointer<R>(_ body: (UnsafePointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafePointer(storage.assumingMemoryBound(to: UInt8.self)))
    }

    /// Lends the key's bytes as a raw buffer. The buffer must not escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage, count: Sodium.keyBytes))
    }

    /// A copy of the key's bytes. Meant for serialising tokens and for tests.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    public static func == (lhs: SymmetricKey, rhs: SymmetricKey) -> Bool {
        lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in Sodium.constantTimeEqual(a, b) } }
    }
}
