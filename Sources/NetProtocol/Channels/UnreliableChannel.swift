/// Send and receive state of one unreliable channel (unordered or sequenced). Nothing is
/// resent; what does not fit in this tick's packets is dropped.
final class UnreliableChannel {
    let index: Int
    let configuration: ChannelConfiguration
    let sequenced: Bool
    private var queue: Ring<(UInt16, [UInt8])>
    private var ready: Ring<[UInt8]>
    /// Buffers of messages already read in place (``withNextMessage(_:)``), kept for the next
    /// arrivals: in steady state a message costs a copy into a buffer, not an allocation.
    private var spare: [[UInt8]] = []
    static let spareBuffers = 2
    private var nextSequence: UInt16 = 0
    private var newestDelivered: UInt16?
    /// Bytes queued to send (until this tick's packets are built) and received but not yet
    /// taken, each message with a small overhead.
    private(set) var sendHeldBytes = 0
    private(set) var receiveHeldBytes = 0
    static let messageOverheadBytes = 16

    static func fixedBytes(_ configuration: ChannelConfiguration) -> Int {
        16 * (MemoryLayout<(UInt16, [UInt8])?>.stride + MemoryLayout<[UInt8]?>.stride)
            + spareBuffers * (min(configuration.maxMessageBytes, Netcode.maxPayloadBytes) + messageOverheadBytes)
    }

    init(index: Int, configuration: ChannelConfiguration) {
        self.index = index
        self.configuration = configuration
        sequenced = configuration.kind == .unreliableSequenced
        queue = Ring(capacity: 16)
        ready = Ring(capacity: 16)
        spare.reserveCapacity(Self.spareBuffers)
    }

    func send(_ bytes: [UInt8], maxBytes: Int, budget: Int) throws(ChannelSendError) {
        let limit = min(maxBytes, configuration.maxMessageBytes)
        guard bytes.count <= limit else { throw .messageTooLarge(maxBytes: limit) }
        guard queue.count < configuration.sendQueueSize else { throw .queueFull }
        guard bytes.count + Self.messageOverheadBytes <= budget else { throw .overBudget }
        sendHeldBytes += bytes.count + Self.messageOverheadBytes
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
            sendHeldBytes -= bytes.count + Self.messageOverheadBytes
            queue.popFirst()
        }
        return false
    }

    /// Drops whatever did not make it into this tick's packets.
    func dropUnsent(statistics: inout ConnectionStatistics) {
        statistics.unreliableDropped &+= UInt64(queue.count)
        queue.removeAll()
        sendHeldBytes = 0
    }

    func admit(_ entry: ChannelWire.Entry, maxBytes: Int) -> ChannelFault? {
        if entry.fragment != nil { return .invalidFragment(channel: index) }
        let limit = min(maxBytes, configuration.maxMessageBytes)
        if entry.payload.count > limit { return .oversizedMessage(channel: index, bytes: entry.payload.count) }
        return nil
    }

    /// Stores a received message, dropping the oldest waiting one when the queue is full; over
    /// `budget` the new message itself is dropped (counted), since unreliable messages may be.
    func apply(_ entry: ChannelWire.Entry, budget: Int, statistics: inout ConnectionStatistics) {
        if sequenced {
            if let newest = newestDelivered, !entry.id.isNewer(than: newest) {
                statistics.unreliableStale &+= 1
                return
            }
            newestDelivered = entry.id
        }
        if ready.count >= configuration.receiveQueueSize, let dropped = ready.popFirst() {
            receiveHeldBytes -= dropped.count + Self.messageOverheadBytes
            statistics.unreliableDropped &+= 1
        }
        let cost = entry.payload.count + Self.messageOverheadBytes
        guard cost <= budget else {
            statistics.unreliableDropped &+= 1
            return
        }
        receiveHeldBytes += cost
        var buffer = spare.popLast() ?? []
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: entry.payload)
        ready.push(buffer)
        statistics.messagesReceived &+= 1
    }

    var nextMessageSize: Int? { ready.first?.count }

    func receive() -> [UInt8]? {
        guard let message = ready.popFirst() else { return nil }
        receiveHeldBytes -= message.count + Self.messageOverheadBytes
        return message
    }

    /// Hands the next message to `body`, then keeps its buffer for a later arrival.
    func withNextMessage<R>(_ body: ([UInt8]) -> R) -> R? {
        guard let message = ready.popFirst() else { return nil }
        receiveHeldBytes -= message.count + Self.messageOverheadBytes
        let result = body(message)
        if spare.count < Self.spareBuffers { spare.append(message) }
        return result
    }
}
