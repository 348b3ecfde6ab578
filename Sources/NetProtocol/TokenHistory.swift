/// Remembers which address first used each connect token (by its 16-byte MAC), so that a
/// token copied off the wire cannot be replayed from another address.
///
/// A fixed number of entries; the oldest is forgotten first. Lookups hash instead of scanning,
/// so the history can be as large as thousands of clients need.
struct TokenHistory {
    struct MAC: Hashable {
        var first: UInt64
        var second: UInt64
    }

    private var addressByMAC: [MAC: NetAddress]
    private var ring: [MAC?]
    private var next = 0

    init(capacity: Int) {
        addressByMAC = [:]
        addressByMAC.reserveCapacity(capacity)
        ring = [MAC?](repeating: nil, count: capacity)
    }

    /// True if `address` may use the token with `mac`: first use, or the same address again
    /// (the client resends its request until it hears back).
    mutating func admit(_ mac: MAC, from address: NetAddress) -> Bool {
        if let owner = addressByMAC[mac] { return owner == address }
        if let evicted = ring[next] { addressByMAC.removeValue(forKey: evicted) }
        ring[next] = mac
        addressByMAC[mac] = address
        next = (next + 1) % ring.count
        return true
    }
}
