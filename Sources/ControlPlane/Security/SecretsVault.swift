import CSodium
import Foundation
import NetProtocol

/// Keys the control port keeps at rest: one to seal email addresses (XSalsa20-Poly1305
/// secretbox) and one to hash them for uniqueness (keyed BLAKE2b), so the database never holds a
/// readable address and a stolen database does not reveal one.
public struct EmailVault: Sendable {
    private let sealKey: SymmetricKey
    private let hashKey: SymmetricKey

    public init(sealKey: SymmetricKey, hashKey: SymmetricKey) {
        Sodium.ensureInitialized()
        self.sealKey = sealKey
        self.hashKey = hashKey
    }

    /// Fresh keys (tests, or a new data directory).
    public static func random() -> EmailVault {
        var random = SystemRandomSource()
        return EmailVault(sealKey: SymmetricKey(random: &random), hashKey: SymmetricKey(random: &random))
    }

    /// The 128 hex digits of both keys, for the key file.
    public var exported: String { Hex.encode(sealKey.bytes + hashKey.bytes) }

    public init?(exported text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count == 128, let bytes = Hex.decode(trimmed),
            let seal = SymmetricKey(bytes: bytes[0..<32]), let hash = SymmetricKey(bytes: bytes[32..<64])
        else { return nil }
        self.init(sealKey: seal, hashKey: hash)
    }

    /// Lowercased and trimmed: the form that is sealed and hashed.
    public static func normalize(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    public func keyedHash(_ email: String) -> Data {
        let message = Array(Self.normalize(email).utf8)
        var out = [UInt8](repeating: 0, count: 32)
        hashKey.withUnsafeKeyPointer { key in
            _ = crypto_generichash(&out, 32, message, UInt64(message.count), key, 32)
        }
        return Data(out)
    }

    /// A device id's keyed hash (with the same key, under its own prefix, so that no device id
    /// and address share a hash). Device ids are opaque: not normalised.
    public func deviceHash(_ deviceID: String) -> Data {
        let message = Array("device\u{0}".utf8) + Array(deviceID.utf8)
        var out = [UInt8](repeating: 0, count: 32)
        hashKey.withUnsafeKeyPointer { key in
            _ = crypto_generichash(&out, 32, message, UInt64(message.count), key, 32)
        }
        return Data(out)
    }

    public func seal(_ email: String) -> Data {
        let message = Array(Self.normalize(email).utf8)
        var nonce = [UInt8](repeating: 0, count: Int(crypto_secretbox_noncebytes()))
        randombytes_buf(&nonce, nonce.count)
        var box = [UInt8](repeating: 0, count: message.count + Int(crypto_secretbox_macbytes()))
        sealKey.withUnsafeKeyPointer { key in
            _ = crypto_secretbox_easy(&box, message, UInt64(message.count), nonce, key)
        }
        return Data(nonce + box)
    }

    public func open(_ sealed: Data) -> String? {
        let bytes = [UInt8](sealed)
        let nonceBytes = Int(crypto_secretbox_noncebytes())
        let macBytes = Int(crypto_secretbox_macbytes())
        guard bytes.count >= nonceBytes + macBytes else { return nil }
        let nonce = Array(bytes[0..<nonceBytes])
        let box = Array(bytes[nonceBytes...])
        var message = [UInt8](repeating: 0, count: box.count - macBytes)
        let result = sealKey.withUnsafeKeyPointer { key in
            crypto_secretbox_open_easy(&message, box, UInt64(box.count), nonce, key)
        }
        return result == 0 ? String(decoding: message, as: UTF8.self) : nil
    }
}

/// Session and refresh tokens: 256 random bits handed to the client as base64url, stored only
/// as their BLAKE2b hash so a database leak does not leak live sessions.
enum SessionToken {
    static func generate() -> (token: String, hash: Data) {
        var bytes = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&bytes, 32)
        // libsodium's base64url without padding: 43 characters (Foundation's base64 and three
        // string replacements cost a resume several microseconds).
        let variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING
        var text = [CChar](repeating: 0, count: sodium_base64_encoded_len(32, variant))
        _ = sodium_bin2base64(&text, text.count, bytes, 32, variant)
        let token = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (token, hash(token))
    }

    static func hash(_ token: String) -> Data {
        let bytes = Array(token.utf8)
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_generichash(&out, 32, bytes, UInt64(bytes.count), nil, 0)
        return Data(out)
    }

    /// Compares two secrets in time that does not depend on where they differ (their hashes,
    /// so lengths leak nothing either).
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(hash(a)), Array(hash(b)))
        return sodium_memcmp(x, y, x.count) == 0
    }
}
