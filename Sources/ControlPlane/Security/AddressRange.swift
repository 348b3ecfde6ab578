import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An IP address or a CIDR block (`192.0.2.7`, `10.0.0.0/8`, `2001:db8::/32`): the peers
/// `--trusted-proxy` names. A bare address is a block of one.
public struct AddressRange: Sendable, Hashable, CustomStringConvertible {
    /// The network's bytes (4 for IPv4, 16 for IPv6), bits past the prefix cleared.
    let network: [UInt8]
    let prefixLength: Int
    public let description: String

    /// Nil unless `text` is an IPv4 or IPv6 address, optionally followed by `/` and a prefix
    /// length of at most 32 or 128.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = Self.bytes(of: String(parts[0])) else { return nil }
        var length = bytes.count * 8
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(parts[1]), value <= length
            else { return nil }
            length = value
        }
        network = Self.masked(bytes, prefixLength: length)
        prefixLength = length
        description = text
    }

    /// Whether `address` (as a socket reports it) is in the block. An IPv4 peer that a
    /// dual-stack socket reports as `::ffff:a.b.c.d` is in an IPv4 block that holds `a.b.c.d`.
    public func contains(_ address: String) -> Bool {
        guard var bytes = Self.bytes(of: address) else { return false }
        if network.count == 4, bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            bytes = Array(bytes[12...])
        }
        return bytes.count == network.count && Self.masked(bytes, prefixLength: prefixLength) == network
    }

    static func bytes(of text: String) -> [UInt8]? {
        guard text.utf8.count <= 45 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func masked(_ bytes: [UInt8], prefixLength: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let kept = min(8, max(0, prefixLength - index * 8))
            return byte & ~(UInt8(0xFF) >> kept)
        }
    }
}
