/// The per-connection replay window of netcode 1.02 (256 entries).
///
/// Call ``isAcceptable(_:)`` before decrypting and ``record(_:)`` only after the packet
/// authenticated, so that a forged sequence cannot move the window.
///
/// Unlike the reference, empty slots are tracked apart from stored sequences, so a repeat of
/// sequence 2^64-1 is rejected like any other duplicate (the reference accepts it again).
public struct ReplayProtection: Sendable {
    public private(set) var mostRecent: UInt64 = 0
    private var received: [UInt64]
    private var occupied: [Bool]

    public init() {
        received = [UInt64](repeating: 0, count: Netcode.replayWindowSize)
        occupied = [Bool](repeating: false, count: Netcode.replayWindowSize)
    }

    /// Forgets everything, keeping the storage.
    public mutating func reset() {
        mostRecent = 0
        for index in occupied.indices { occupied[index] = false }
    }

    /// True if `sequence` is new and inside the window.
    public func isAcceptable(_ sequence: UInt64) -> Bool {
        let window = UInt64(Netcode.replayWindowSize)
        // Written with a subtraction: `sequence + window <= mostRecent` overflows near 2^64.
        if mostRecent >= window && sequence <= mostRecent - window { return false }
        let slot = Int(sequence % window)
        if !occupied[slot] { return true }
        return received[slot] < sequence
    }

    /// Marks `sequence` as received. Only for packets that authenticated.
    public mutating func record(_ sequence: UInt64) {
        let slot = Int(sequence % UInt64(Netcode.replayWindowSize))
        received[slot] = sequence
        occupied[slot] = true
        if sequence > mostRecent { mostRecent = sequence }
    }
}
