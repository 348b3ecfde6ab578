/// The server's challenge token: client id and user data sealed under a key only this server
/// process knows, proving on the response that the client saw the challenge.
public enum ChallengeToken {
    /// Plaintext bytes before the 16-byte tag.
    public static let plaintextBytes = Netcode.challengeTokenBytes - Sodium.macBytes

    /// Writes and seals a challenge token into the first 300 bytes of `buffer`.
    public static func seal(
        clientID: UInt64, userData: UnsafeRawBufferPointer, sequence: UInt64, key: SymmetricKey,
        into buffer: UnsafeMutableRawBufferPointer
    ) {
        precondition(buffer.count >= Netcode.challengeTokenBytes && userData.count == Netcode.userDataBytes)
        var writer = WireWriter(buffer)
        writer.write(clientID)
        writer.write(userData)
        writer.writeZeros(plaintextBytes - writer.offset)
        withPacketNonce(sequence) { nonce in
            Sodium.sealChaCha20Poly1305(
                buffer.baseAddress!, length: plaintextBytes, additionalData: UnsafeRawBufferPointer(start: nil, count: 0),
                nonce: nonce, key: key)
        }
    }

    /// Opens the 300-byte token at `buffer` in place. Returns the client id, with the user data
    /// left at bytes 8..<264, or nil if it does not authenticate.
    public static func open(_ buffer: UnsafeMutableRawBufferPointer, sequence: UInt64, key: SymmetricKey) -> UInt64? {
        guard buffer.count >= Netcode.challengeTokenBytes else { return nil }
        let opened = withPacketNonce(sequence) { nonce in
            Sodium.openChaCha20Poly1305(
                buffer.baseAddress!, length: Netcode.challengeTokenBytes,
                additionalData: UnsafeRawBufferPointer(start: nil, count: 0), nonce: nonce, key: key)
        }
        guard opened == plaintextBytes else { return nil }
        return buffer.loadUnaligned(as: UInt64.self).littleEndian
    }
}

/// Runs `body` with the 12-byte ChaCha20 nonce for `sequence`: four zero bytes, then the
/// sequence as little-endian u64 (zeros first, as the 1.02 errata settle). Stack memory only.
@inline(__always)
func withPacketNonce<R>(_ sequence: UInt64, _ body: (UnsafeRawPointer) -> R) -> R {
    var words: (UInt32, UInt32, UInt32) = (0, UInt32(truncatingIfNeeded: sequence).littleEndian,
                                         UInt32(truncatingIfNeeded: sequence >> 32).littleEndian)
    return withUnsafeBytes(of: &words) { body($0.baseAddress!) }
}
