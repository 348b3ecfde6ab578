#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address with a UDP port: the identity of a peer and the unit that connect
/// tokens list.
///
/// Stored as two 64-bit words in network order so that hashing and comparison are cheap on the
/// per-datagram path. IPv4 addresses keep their four octets in the top of `high` and zeros
/// elsewhere.
public struct NetAddress: Hashable, Sendable, CustomStringConvertible {
    public enum Family: UInt8, Sendable {
        case ipv4 = 1
        case ipv6 = 2
    }

    public let family: Family
    /// Bytes 0..<8 of the address in network order (IPv4: octets in the top 32 bits).
    public let high: UInt64
    /// Bytes 8..<16 of the IPv6 address in network order; 0 for IPv4.
    public let low: UInt64
    public let port: UInt16

    private init(family: Family, high: UInt64, low: UInt64, port: UInt16) {
        self.family = family
        self.high = high
        self.low = low
        self.port = port
    }

    /// An IPv4 address from its four octets in dotted order.
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        family = .ipv4
        high = UInt64(a) << 56 | UInt64(b) << 48 | UInt64(c) << 40 | UInt64(d) << 32
        low = 0
        self.port = port
    }

    /// The same host with another port.
    public func withPort(_ port: UInt16) -> NetAddress { NetAddress(family: family, high: high, low: low, port: port) }

    /// An IPv6 address from its eight groups, most significant first.
    public init(ipv6Groups groups: [UInt16], port: UInt16) {
        precondition(groups.count == 8, "an IPv6 address has eight groups")
        family = .ipv6
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<4 { high = high << 16 | UInt64(groups[index]) }
        for index in 4..<8 { low = low << 16 | UInt64(groups[index]) }
        self.high = high
        self.low = low
        self.port = port
    }

    /// An address from 4 (IPv4) or 16 (IPv6) bytes in network order.
    public init?(family: Family, networkOrderBytes bytes: UnsafeRawBufferPointer, port: UInt16) {
        switch family {
        case .ipv4:
            guard bytes.count >= 4 else { return nil }
            self.init(ipv4: bytes[0], bytes[1], bytes[2], bytes[3], port: port)
        case .ipv6:
            guard bytes.count >= 16 else { return nil }
            var high: UInt64 = 0
            var low: UInt64 = 0
            for index in 0..<8 { high = high << 8 | UInt64(bytes[index]) }
            for index in 8..<16 { low = low << 8 | UInt64(bytes[index]) }
            self.init(family: .ipv6, high: high, low: low, port: port)
        }
    }

    /// Parses `a.b.c.d:port`, `[v6]:port`, or (with `defaultPort`) an address without a port.
    /// Returns nil for anything else, including ports outside 0...65535.
    public init?(_ text: String, defaultPort: UInt16? = nil) {
        var host = Substring(text)
        var port = defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = UInt16(rest.dropFirst()) else { return nil }
                port = value
            }
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            guard let value = UInt16(host[host.index(after: colon)...]) else { return nil }
            port = value
            host = host[..<colon]
        }
        guard let resolvedPort = port, !host.isEmpty else { return nil }
        var buffer = (UInt64(0), UInt64(0))
        let parsed: NetAddress? = withUnsafeMutableBytes(of: &buffer) { raw in
            let hostString = String(host)
            if inet_pton(AF_INET, hostString, raw.baseAddress) == 1 {
                return NetAddress(family: .ipv4, networkOrderBytes: UnsafeRawBufferPointer(raw), port: resolvedPort)
            }
            if inet_pton(AF_INET6, hostString, raw.baseAddress) == 1 {
                return NetAddress(family: .ipv6, networkOrderBytes: UnsafeRawBufferPointer(raw), port: resolvedPort)
            }
            return nil
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// The four IPv4 octets in dotted order (IPv4 only).
    public var ipv4Octets: [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
    }

    /// The eight IPv6 groups, most significant first (IPv6 only).
    public var ipv6Groups: [UInt16] {
        (0..<8).map { index -> UInt16 in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(index % 4)))
        }
    }

    /// Writes the 16 network-order bytes (IPv4 uses the first 4).
    public func withNetworkOrderBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var words = (high.bigEndian, low.bigEndian)
        return try withUnsafeBytes(of: &words) { try body($0) }
    }

    /// True for 0.0.0.0 and ::.
    public var isUnspecified: Bool { high == 0 && low == 0 }

    /// 127.0.0.0/8 or ::1: reachable from this machine only.
    public var isLoopback: Bool {
        family == .ipv4 ? ipv4Octets[0] == 127 : ipv6Groups == [0, 0, 0, 0, 0, 0, 0, 1]
    }

    public var description: String {
        switch family {
        case .ipv4:
            let octets = ipv4Octets
            return "\(octets[0]).\(octets[1]).\(octets[2]).\(octets[3]):\(port)"
        case .ipv6:
            var text = [CChar](repeating: 0, count: 64)
            let ok = withNetworkOrderBytes { raw in
                inet_ntop(AF_INET6, raw.baseAddress, &text, socklen_t(text.count)) != nil
            }
            let host = ok ? String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
            return "[\(host)]:\(port)"
        }
    }
}

extension NetAddress {
    /// Bytes of a serialised address record: 7 for IPv4, 19 for IPv6.
    public var serializedBytes: Int { family == .ipv4 ? 7 : 19 }

    /// Writes the netcode address record: type byte, IPv4 octets in order or IPv6 groups as
    /// little-endian u16 (the reference's quirk), then the port as little-endian u16.
    public func write(to writer: inout WireWriter) {
        writer.write(family.rawValue)
        switch family {
        case .ipv4:
            for octet in ipv4Octets { writer.write(octet) }
        case .ipv6:
            for group in ipv6Groups { writer.write(group) }
        }
        writer.write(port)
    }

    /// Reads a netcode address record; nil on an unknown type byte or too few bytes.
    public static func read(from reader: inout WireReader) -> NetAddress? {
        guard let type = reader.readUInt8(), let family = Family(rawValue: type) else { return nil }
        switch family {
        case .ipv4:
            guard let a = reader.readUInt8(), let b = reader.readUInt8(), let c = reader.readUInt8(),
                let d = reader.readUInt8(), let port = reader.readUInt16()
            else { return nil }
            return NetAddress(ipv4: a, b, c, d, port: port)
        case .ipv6:
            var groups = [UInt16]()
            groups.reserveCapacity(8)
            for _ in 0..<8 {
                guard let group = reader.readUInt16() else { return nil }
                groups.append(group)
            }
            guard let port = reader.readUInt16() else { return nil }
            return NetAddress(ipv6Groups: groups, port: port)
        }
    }
}
