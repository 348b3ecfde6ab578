/// Send and receive state of one unreliable channel (unordered or sequenced). Nothing is
/// resent; what does not fit in this tick's packets is dropped. Like ``ReliableChannel``, a
/// value its connection reaches through a pointer; its queues are allocated on first use and
/// freed by ``release()``.
struct UnreliableChannel {
    struct Queued {
        var bytes: [UInt8]
        var sequence: UInt16
    }

    let index: Int
    let sequenced: Bool
    let sendQueueSize: Int
    let receiveQueueSize: Int
    let maxMessageBytes: Int
    private var queue: FlatRing<Queued>
    private var ready: FlatRing<[UInt8]>
    /// Buffers of messages already read in place (``ChannelConnection/withNextMessage(on:_:)``),
    /// kept for the next arrivals (as many as a tick's burst, up to
    /// ``ReliableChannel/maxSpareBuffers``): in steady state a message costs a copy into a
    /// buffer, not an allocation. Counted in ``spareBytes`` and given back whenever the budget
    /// is short.
    private var spare: FlatRing<[UInt8]>
    private let spareLimit: Int
    /// Capacity of the spare buffers.
    private(set) var spareBytes = 0
    private var nextSequence: UInt16 = 0
    private var newestDelivered: UInt16 = 0
    private var hasDelivered = false
    /// Bytes queued to send (until this tick's packets are built) and received but not yet
    /// taken, each message with a small overhead.
    private(set) var sendHeldBytes = 0
    private(set) var receiveHeldBytes = 0
    static let messageOverheadBytes = 16

    static func fixedBytes(_ configuration: ChannelConfiguration) -> Int {
        16 * (MemoryLayout<Queued>.stride + MemoryLayout<[UInt8]>.stride)
            + min(configuration.receiveQueueSize, ReliableChannel.maxSpareBuffers) * MemoryLayout<[UInt8]>.stride
    }

    init(index: Int, configuration: ChannelConfiguration) {
        self.index = index
        sequenced = configuration.kind == .unreliableSequenced
        sendQueueSize = configuration.sendQueueSize
        receiveQueueSize = configuration.receiveQueueSize
        maxMessageBytes = configuration.maxMessageBytes
        queue = FlatRing(initialCapacity: min(16, configuration.sendQueueSize))
        ready = FlatRing(initialCapacity: min(16, configuration.receiveQueueSize))
        spareLimit = min(configuration.receiveQueueSize, ReliableChannel.maxSpareBuffers)
        spare = FlatRing(initialCapacity: 4)
    }

    mutating func release() {
        queue.release()
        ready.release()
        spare.release()
        spareBytes = 0
    }

    mutating func send(_ bytes: [UInt8], maxBytes: Int, budget: Int) throws(ChannelSendError) {
        let limit = min(maxBytes, maxMessageBytes)
        guard bytes.count <= limit else { throw .messageTooLarge(maxBytes: limit) }
        guard queue.count < sendQueueSize else { throw .queueFull }
        guard bytes.count + Self.messageOverheadBytes <= budget else { throw .overBudget }
        sendHeldBytes += bytes.count + Self.messageOverheadBytes
        queue.push(Queued(bytes: bytes, sequence: nextSequence))
        nextSequence &+= 1
    }

    @inline(__always)
    var hasQueued: Bool { !queue.isEmpty }

    /// Writes queued messages in order while they fit; returns whether any are left.
    mutating func write(to writer: inout WireWriter, limit: Int, statistics: inout ConnectionStatistics) -> Bool {
        while let message = queue.firstPointer {
            let count = message.pointee.bytes.count
            let needed = ChannelWire.entryHeaderBytes(hasID: sequenced, isFragment: false, length: count) + count
            guard limit - writer.offset >= needed else { return true }
            message.pointee.bytes.withUnsafeBytes { raw in
                ChannelWire.writeEntry(channel: index, id: sequenced ? message.pointee.sequence : nil, fragment: nil, payload: raw, to: &writer)
            }
            statistics.messagesSent &+= 1
            sendHeldBytes -= count + Self.messageOverheadBytes
            queue.popFirst()
        }
        return false
    }

    /// Drops whatever did not make it into this tick's packets.
    mutating func dropUnsent(statistics: inout ConnectionStatistics) {
        guard !queue.isEmpty else { return }
        statistics.unreliableDropped &+= UInt64(queue.count)
        queue.removeAll()
        sendHeldBytes = 0
    }

    @inline(__always)
    func admit(_ entry: ChannelWire.Entry, maxBytes: Int) -> ChannelFault? {
        if entry.fragment != nil { return .invalidFragment(channel: index) }
        let limit = min(maxBytes, maxMessageBytes)
        if entry.payload.count > limit { return .oversizedMessage(channel: index, bytes: entry.payload.count) }
        return nil
    }

    /// Stores a received message, dropping the oldest waiting one when the queue is full; over
    /// `budget` the new message itself is dropped (counted), since unreliable messages may be.
    mutating func apply(_ entry: ChannelWire.Entry, budget: Int, statistics: inout ConnectionStatistics) {
        if sequenced {
            if hasDelivered, !entry.id.isNewer(than: newestDelivered) {
                statistics.unreliableStale &+= 1
                return
            }
            newestDelivered = entry.id
            hasDelivered = true
        }
        if ready.count >= receiveQueueSize, let dropped = ready.popFirst() {
            receiveHeldBytes -= dropped.count + Self.messageOverheadBytes
            statistics.unreliableDropped &+= 1
        }
        let cost = entry.payload.count + Self.messageOverheadBytes
        guard cost <= budget else {
            statistics.unreliableDropped &+= 1
            return
        }
        receiveHeldBytes += cost
        var buffer: [UInt8] = []
        if let kept = spare.popFirst() {
            spareBytes -= kept.capacity
            buffer = kept
            buffer.overwrite(with: entry.payload)
        } else {
            buffer.append(contentsOf: entry.payload)
        }
        ready.push(buffer)
        statistics.messagesReceived &+= 1
    }

    @inline(__always)
    var nextMessageSize: Int? { ready.firstPointer?.pointee.count }

    mutating func receive() -> [UInt8]? {
        guard let message = ready.popFirst() else { return nil }
        receiveHeldBytes -= message.count + Self.messageOverheadBytes
        return message
    }

    /// Takes back the buffer of a message the application read in place, for a later arrival.
    mutating func recycle(_ buffer: consuming [UInt8]) {
        guard spare.count < spareLimit, buffer.capacity <= Netcode.maxPayloadBytes else { return }
        spareBytes += buffer.capacity
        spare.push(buffer)
    }

    /// Frees the spare buffers (the budget needs their bytes).
    mutating func releaseSpares() {
        spare.removeAll()
        spareBytes = 0
    }
}
