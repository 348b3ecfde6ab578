/// A memory budget shared by the connections of one thread (a game server's): the sum of what
/// they hold may not pass `limitBytes`. Each ``ChannelConnection`` made with the pool reports
/// what it holds as it changes and gives it all back when it goes away. Not thread-safe: share
/// one pool only among connections driven by the same thread.
public final class ChannelMemoryPool {
    public let limitBytes: Int
    public private(set) var usedBytes = 0
    /// The most `usedBytes` has been.
    public private(set) var peakBytes = 0
    /// The buffer the pool's connections build their packets in, one at a time (a connection
    /// whose `generatePackets` runs inside another's uses its own): one buffer per thread
    /// rather than one per connection.
    let packetBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Netcode.maxPayloadBytes, alignment: 16)
    var packetBufferInUse = false

    public init(limitBytes: Int) {
        self.limitBytes = limitBytes
    }

    deinit {
        packetBuffer.deallocate()
    }

    public var availableBytes: Int { limitBytes - usedBytes }

    func adjust(by delta: Int) {
        usedBytes += delta
        if usedBytes > peakBytes { peakBytes = usedBytes }
    }
}
