/// Remembers which address first used each connect token (by its 16-byte MAC), so that a
/// token copied off the wire cannot be replayed from another address. A token used over a
/// stream transport (WebSocket) is remembered as used by no address: it is spent for good.
///
/// A fixed number of entries; the oldest is forgotten first. Lookups hash instead of scanning,
/// so the history can be as large as thousands of clients need.
struct TokenHistory {
    struct MAC: Hashable {
        var first: UInt64
        var second: UInt64
    }

    /// Who used a token first: a datagram address (which may resend its request), or a stream
    /// connection (which may not: a stream opens once).
    enum User: Equatable {
        case datagram(NetAddress)
        case stream
    }

    private var userByMAC: [MAC: User]
    private var ring: [MAC?]
    private var next = 0

    init(capacity: Int) {
        userByMAC = [:]
        userByMAC.reserveCapacity(capacity)
        ring = [MAC?](repeating: nil, count: capacity)
    }

    /// True if `address` may use the token with `mac`: first use, or the same address again
    /// (the client resends its request until it hears back).
    mutating func admit(_ mac: MAC, from address: NetAddress) -> Bool {
        if let user = userByMAC[mac] { return user == .datagram(address) }
        remember(mac, as: .datagram(address))
        return true
    }

    /// True if the token with `mac` was never used, by any transport; it is then spent.
    mutating func admitOnce(_ mac: MAC) -> Bool {
        guard userByMAC[mac] == nil else { return false }
        remember(mac, as: .stream)
        return true
    }

    private mutating func remember(_ mac: MAC, as user: User) {
        if let evicted = ring[next] { userByMAC.removeValue(forKey: evicted) }
        ring[next] = mac
        userByMAC[mac] = user
        next = (next + 1) % ring.count
    }
}
