/// A memory budget shared by the connections of one thread (a game server's): the sum of what
/// they hold may not pass `limitBytes`. Each ``ChannelConnection`` made with the pool reports
/// what it holds as it changes and gives it all back when it goes away. Not thread-safe: share
/// one pool only among connections driven by the same thread.
public final class ChannelMemoryPool {
    public let limitBytes: Int
    public private(set) var usedBytes = 0
    /// The most `usedBytes` has been.
    public private(set) var peakBytes = 0

    public init(limitBytes: Int) {
        self.limitBytes = limitBytes
    }

    public var availableBytes: Int { limitBytes - usedBytes }

    func adjust(by delta: Int) {
        usedBytes += delta
        if usedBytes > peakBytes { peakBytes = usedBytes }
    }
}
