import CSodium

/// Thin, allocation-free access to the libsodium primitives the transport uses.
///
/// Every function works in place on caller-owned memory: sealing writes the 16-byte tag right
/// after the plaintext, opening verifies it and leaves the plaintext where the ciphertext was.
public enum Sodium {
    /// Bytes in every symmetric key.
    public static let keyBytes = 32
    /// Bytes in a Poly1305 tag.
    public static let macBytes = 16
    /// Bytes in a ChaCha20-Poly1305-IETF nonce.
    public static let chachaNonceBytes = 12
    /// Bytes in an XChaCha20-Poly1305-IETF nonce.
    public static let xchachaNonceBytes = 24

    // sodium_init is idempotent and thread-safe; a global let runs it exactly once.
    private static let initialized: Bool = sodium_init() >= 0

    /// Makes sure libsodium is initialised. Cheap after the first call.
    @inline(__always)
    public static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialise")
    }

    // The libsodium AEAD entry points: both ciphers share one signature.
    typealias SealFunction = (
        UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt64>?, UnsafePointer<UInt8>?, UInt64,
        UnsafePointer<UInt8>?, UInt64, UnsafePointer<UInt8>?, UnsafePointer<UInt8>, UnsafePointer<UInt8>
    ) -> Int32
    typealias OpenFunction = (
        UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt64>?, UnsafeMutablePointer<UInt8>?, UnsafePointer<UInt8>, UInt64,
        UnsafePointer<UInt8>?, UInt64, UnsafePointer<UInt8>, UnsafePointer<UInt8>
    ) -> Int32

    @inline(__always)
    private static func seal(
        _ function: SealFunction, _ buffer: UnsafeMutableRawPointer, length: Int, additionalData: UnsafeRawBufferPointer,
        nonce: UnsafeRawPointer, key: SymmetricKey
    ) {
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        key.withUnsafeKeyPointer { keyPointer in
            var sealedLength: UInt64 = 0
            _ = function(
                bytes, &sealedLength, bytes, UInt64(length),
                additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additionalData.count),
                nil, nonce.assumingMemoryBound(to: UInt8.self), keyPointer)
        }
    }

    @inline(__always)
    private static func open(
        _ function: OpenFunction, _ buffer: UnsafeMutableRawPointer, length: Int, additionalData: UnsafeRawBufferPointer,
        nonce: UnsafeRawPointer, key: SymmetricKey
    ) -> Int? {
        guard length >= macBytes else { return nil }
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        return key.withUnsafeKeyPointer { keyPointer -> Int? in
            var openedLength: UInt64 = 0
            let result = function(
                bytes, &openedLength, nil, bytes, UInt64(length),
                additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additionalData.count),
                nonce.assumingMemoryBound(to: UInt8.self), keyPointer)
            return result == 0 ? Int(openedLength) : nil
        }
    }

    /// Seals `length` bytes at `buffer` with ChaCha20-Poly1305-IETF, in place.
    /// `buffer` must have room for `length + macBytes` bytes; `nonce` must point at 12 bytes.
    public static func sealChaCha20Poly1305(
        _ buffer: UnsafeMutableRawPointer, length: Int,
        additionalData: UnsafeRawBufferPointer, nonce: UnsafeRawPointer, key: SymmetricKey
    ) {
        seal(crypto_aead_chacha20poly1305_ietf_encrypt, buffer, length: length, additionalData: additionalData, nonce: nonce, key: key)
    }

    /// Opens `length` bytes (ciphertext and tag) at `buffer` with ChaCha20-Poly1305-IETF, in place.
    /// Returns the plaintext length, or nil when authentication fails (the buffer is then undefined).
    public static func openChaCha20Poly1305(
        _ buffer: UnsafeMutableRawPointer, length: Int,
        additionalData: UnsafeRawBufferPointer, nonce: UnsafeRawPointer, key: SymmetricKey
    ) -> Int? {
        open(crypto_aead_chacha20poly1305_ietf_decrypt, buffer, length: length, additionalData: additionalData, nonce: nonce, key: key)
    }

    /// Seals `length` bytes at `buffer` with XChaCha20-Poly1305-IETF, in place (24-byte nonce).
    public static func sealXChaCha20Poly1305(
        _ buffer: UnsafeMutableRawPointer, length: Int,
        additionalData: UnsafeRawBufferPointer, nonce: UnsafeRawPointer, key: SymmetricKey
    ) {
        seal(crypto_aead_xchacha20poly1305_ietf_encrypt, buffer, length: length, additionalData: additionalData, nonce: nonce, key: key)
    }

    /// Opens `length` bytes (ciphertext and tag) at `buffer` with XChaCha20-Poly1305-IETF, in place.
    public static func openXChaCha20Poly1305(
        _ buffer: UnsafeMutableRawPointer, length: Int,
        additionalData: UnsafeRawBufferPointer, nonce: UnsafeRawPointer, key: SymmetricKey
    ) -> Int? {
        open(crypto_aead_xchacha20poly1305_ietf_decrypt, buffer, length: length, additionalData: additionalData, nonce: nonce, key: key)
    }

    /// Fills `buffer` with bytes from the operating system's CSPRNG.
    public static func randomBytes(_ buffer: UnsafeMutableRawBufferPointer) {
        ensureInitialized()
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf(base, buffer.count)
    }

    /// Overwrites `count` bytes at `pointer` with zeros in a way the compiler cannot elide.
    public static func wipe(_ pointer: UnsafeMutableRawPointer, count: Int) {
        sodium_memzero(pointer, count)
    }

    /// Compares two byte ranges in constant time.
    public static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return a.count == 0 }
        return sodium_memcmp(pa, pb, a.count) == 0
    }
}
