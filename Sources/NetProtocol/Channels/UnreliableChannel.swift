/// Send and receive state of one unreliable channel (unordered or sequenced). Nothing is
/// resent; what does not fit in this tick's packets is dropped.
final class UnreliableChannel {
    let index: Int
    let configuration: ChannelConfiguration
    let sequenced: Bool
    private var queue: Ring<(UInt16, [UInt8])>
    private var ready: Ring<[UInt8]>
    private var nextSequence: UInt16 = 0
    private var newestDelivered: UInt16?

    init(index: Int, configuration: ChannelConfiguration) {
        self.index = index
        self.configuration = configuration
        sequenced = configuration.kind == .unreliableSequenced
        queue = Ring(capacity: 16)
        ready = Ring(capacity: 16)
    }

    func send(_ bytes: [UInt8], maxBytes: Int) throws(ChannelSendError) {
        let limit = min(maxBytes, configuration.maxMessageBytes)
        guard bytes.count <= limit else { throw .messageTooLarge(maxBytes: limit) }
        guard queue.count < configuration.sendQueueSize else { throw .queueFull }
        queue.push((nextSequence, bytes))
        nextSequence &+= 1
    }

    var hasQueued: Bool { !queue.isEmpty }

    /// Writes queued messages in order while they fit; returns whether any are left.
    func write(to writer: inout WireWriter, limit: Int, statistics: inout ConnectionStatistics) -> Bool {
        while let (sequence, bytes) = queue.first {
            let needed = ChannelWire.entryHeaderBytes(hasID: sequenced, isFragment: false, length: bytes.count) + bytes.count
            guard limit - writer.offset >= needed else { return true }
            bytes.withUnsafeBytes { raw in
                ChannelWire.writeEntry(channel: index, id: sequenced ? sequence : nil, fragment: nil, payload: raw, to: &writer)
            }
            statistics.messagesSent &+= 1
            queue.popFirst()
        }
        return false
    }

    /// Drops whatever did not make it into this tick's packets.
    func dropUnsent(statistics: inout ConnectionStatistics) {
        statistics.unreliableDropped &+= UInt64(queue.count)
        queue.removeAll()
    }

    func admit(_ entry: ChannelWire.Entry, maxBytes: Int) -> ChannelFault? {
        if entry.fragment != nil { return .invalidFragment(channel: index) }
        let limit = min(maxBytes, configuration.maxMessageBytes)
        if entry.payload.count > limit { return .oversizedMessage(channel: index, bytes: entry.payload.count) }
        return nil
    }

    func apply(_ entry: ChannelWire.Entry, statistics: inout ConnectionStatistics) {
        if sequenced {
            if let newest = newestDelivered, !entry.id.isNewer(than: newest) {
                statistics.unreliableStale &+= 1
                return
            }
            newestDelivered = entry.id
        }
        if ready.count >= configuration.receiveQueueSize {
            ready.popFirst()
            statistics.unreliableDropped &+= 1
        }
        ready.push(Array(entry.payload))
        statistics.messagesReceived &+= 1
    }

    func receive() -> [UInt8]? { ready.popFirst() }
}
