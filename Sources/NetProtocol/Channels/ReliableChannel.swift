/// Send and receive state of one reliable channel (ordered or unordered).
///
/// Messages are resent, not packets: each packet carries whatever is unacknowledged and due,
/// and an acknowledged packet frees exactly the messages (or fragments) it carried.
final class ReliableChannel {
    struct Outgoing {
        var bytes: [UInt8] = []
        var fragmentCount = 0
        /// A whole message keeps its send time and ack here; a large message keeps one per
        /// fragment in the arrays (allocated only for large messages).
        var lastSent: Double = -.infinity
        var acked = false
        var fragmentLastSent: [Double] = []
        var fragmentAcked: [Bool] = []
        var ackedCount = 0
        var ackedBytes = 0

        var isComplete: Bool { ackedCount == max(1, fragmentCount) }

        func isAcked(_ part: Int) -> Bool { fragmentCount == 0 ? acked : fragmentAcked[part] }
        func sentAt(_ part: Int) -> Double { fragmentCount == 0 ? lastSent : fragmentLastSent[part] }

        mutating func markSent(_ part: Int, at time: Double) {
            if fragmentCount == 0 { lastSent = time } else { fragmentLastSent[part] = time }
        }

        /// Records an ack of `part`; false if it was already acked or out of range.
        mutating func markAcked(_ part: Int) -> Bool {
            if fragmentCount == 0 {
                guard part == 0, !acked else { return false }
                acked = true
            } else {
                guard part < fragmentCount, !fragmentAcked[part] else { return false }
                fragmentAcked[part] = true
            }
            ackedCount += 1
            return true
        }
    }

    struct Incoming {
        var bytes: [UInt8] = []
        var fragmentCount = 0
        var received: [Bool] = []
        var receivedCount = 0
        var length = 0
        var isComplete = false
        /// Unordered channels hand a message over at once and keep this marker for dedup.
        var delivered = false
    }

    let index: Int
    let configuration: ChannelConfiguration
    let ordered: Bool
    let fragmentBytes: Int

    private(set) var nextSendID: UInt16 = 0
    private(set) var oldestUnacked: UInt16 = 0
    private var outgoing: SequenceBuffer<Outgoing>
    /// Receiving: the window starts at the next id to hand over (ordered) or the oldest id not
    /// yet received (unordered).
    private var expected: UInt16 = 0
    private var incoming: SequenceBuffer<Incoming>
    private var ready: Ring<[UInt8]>

    init(index: Int, configuration: ChannelConfiguration, fragmentBytes: Int) {
        self.index = index
        self.configuration = configuration
        self.ordered = configuration.kind == .reliableOrdered
        self.fragmentBytes = fragmentBytes
        outgoing = SequenceBuffer(capacity: configuration.sendQueueSize, blank: Outgoing())
        incoming = SequenceBuffer(capacity: configuration.receiveQueueSize, blank: Incoming())
        ready = Ring(capacity: 16)
    }

    // MARK: Sending

    var queuedCount: Int { nextSendID.distance(from: oldestUnacked) }

    func send(_ bytes: [UInt8]) throws(ChannelSendError) -> UInt16 {
        guard bytes.count <= configuration.maxMessageBytes else { throw .messageTooLarge(maxBytes: configuration.maxMessageBytes) }
        guard queuedCount < configuration.sendQueueSize else { throw .queueFull }
        let fragments = bytes.count > fragmentBytes ? (bytes.count + fragmentBytes - 1) / fragmentBytes : 0
        var message = Outgoing(bytes: bytes, fragmentCount: fragments)
        if fragments > 0 {
            message.fragmentLastSent = [Double](repeating: -.infinity, count: fragments)
            message.fragmentAcked = [Bool](repeating: false, count: fragments)
        }
        let id = nextSendID
        outgoing.insert(id, message)
        nextSendID &+= 1
        return id
    }

    func progress(of id: UInt16) -> SendProgress? {
        if let message = outgoing[id] { return SendProgress(ackedBytes: message.ackedBytes, totalBytes: message.bytes.count) }
        // Sent before and no longer queued: fully acknowledged.
        if oldestUnacked.isNewer(than: id) && nextSendID.isNewer(than: id) { return SendProgress(ackedBytes: 1, totalBytes: 1) }
        return nil
    }

    /// Writes due messages and fragments while they fit. `record` notes what went into the
    /// packet. Returns whether anything is still due that did not fit.
    func write(
        to writer: inout WireWriter, limit: Int, now: Double, resendDelay: Double,
        statistics: inout ConnectionStatistics, record: (UInt16, Int) -> Bool
    ) -> Bool {
        var leftOver = false
        var id = oldestUnacked
        while id != nextSendID {
            if limit - writer.offset < 1 + 2 + 1 + 1 { return true }
            let current = id
            id &+= 1
            let stillDue = outgoing.modify(current) { message -> Bool in
                guard !message.isComplete else { return false }
                var missed = false
                for part in 0..<max(1, message.fragmentCount) where !message.isAcked(part) {
                    let lastSent = message.sentAt(part)
                    guard now - lastSent >= resendDelay else { continue }
                    let start = message.fragmentCount == 0 ? 0 : part * fragmentBytes
                    let end = message.fragmentCount == 0 ? message.bytes.count : min(message.bytes.count, start + fragmentBytes)
                    let isFragment = message.fragmentCount > 0
                    let needed = ChannelWire.entryHeaderBytes(hasID: true, isFragment: isFragment, length: end - start) + (end - start)
                    guard limit - writer.offset >= needed else {
                        missed = true
                        continue
                    }
                    guard record(current, isFragment ? part : -1) else { return true }
                    message.bytes.withUnsafeBytes { raw in
                        ChannelWire.writeEntry(
                            channel: index, id: current, fragment: isFragment ? (part, message.fragmentCount) : nil,
                            payload: UnsafeRawBufferPointer(rebasing: raw[start..<end]), to: &writer)
                    }
                    if lastSent > -.infinity { statistics.resends &+= 1 } else if part == 0 { statistics.messagesSent &+= 1 }
                    message.markSent(part, at: now)
                }
                return missed
            }
            if stillDue == true { leftOver = true }
        }
        return leftOver
    }

    /// A packet carrying (id, fragment) was acknowledged.
    func acknowledge(id: UInt16, fragment: Int) {
        outgoing.modify(id) { message in
            let part = max(0, fragment)
            guard message.markAcked(part) else { return }
            if message.fragmentCount == 0 {
                message.ackedBytes = message.bytes.count
            } else {
                let start = part * fragmentBytes
                message.ackedBytes += min(message.bytes.count, start + fragmentBytes) - start
            }
        }
        while oldestUnacked != nextSendID, outgoing[oldestUnacked]?.isComplete ?? true {
            outgoing.remove(oldestUnacked)
            oldestUnacked &+= 1
        }
    }

    // MARK: Receiving

    enum Admission {
        case accept
        /// Already delivered or older than the window: ignore, still ack.
        case ignore
        /// Cannot be stored now: refuse the whole packet (no ack) so the sender retries.
        case backPressure
        case fault(ChannelFault)
    }

    /// Checks an entry without applying it. `reassemblyBudget` is what the connection has left.
    func admit(_ entry: ChannelWire.Entry, reassemblyBudget: Int) -> Admission {
        let distance = entry.id.distance(from: expected)
        if distance >= 0x8000 { return .ignore }
        if distance >= configuration.receiveQueueSize {
            return distance < configuration.receiveQueueSize + configuration.sendQueueSize
                ? .backPressure : .fault(.messageIDOutsideWindow(channel: index, id: entry.id))
        }
        if !ordered && ready.count >= configuration.receiveQueueSize { return .backPressure }
        let existing = incoming[entry.id]
        guard let fragment = entry.fragment else {
            guard entry.payload.count <= fragmentBytes else {
                return .fault(.oversizedMessage(channel: index, bytes: entry.payload.count))
            }
            if let existing, existing.fragmentCount > 0 { return .fault(.inconsistentFragments(channel: index, id: entry.id)) }
            return .accept
        }
        let maxFragments = (configuration.maxMessageBytes + fragmentBytes - 1) / fragmentBytes
        guard fragment.count >= 2, fragment.count <= maxFragments, fragment.index < fragment.count else {
            return .fault(.invalidFragment(channel: index))
        }
        let isLast = fragment.index == fragment.count - 1
        guard isLast ? (1...fragmentBytes).contains(entry.payload.count) : entry.payload.count == fragmentBytes else {
            return .fault(.invalidFragment(channel: index))
        }
        let total = (fragment.count - 1) * fragmentBytes + (isLast ? entry.payload.count : 1)
        guard total <= configuration.maxMessageBytes else { return .fault(.oversizedMessage(channel: index, bytes: total)) }
        if let existing {
            if existing.isComplete || existing.delivered { return .ignore }
            guard existing.fragmentCount == fragment.count else { return .fault(.inconsistentFragments(channel: index, id: entry.id)) }
            return .accept
        }
        return fragment.count * fragmentBytes <= reassemblyBudget ? .accept : .backPressure
    }

    /// Applies an admitted entry. Returns the change in reassembly memory.
    func apply(_ entry: ChannelWire.Entry, statistics: inout ConnectionStatistics) -> Int {
        var memoryChange = 0
        if !incoming.contains(entry.id) {
            var fresh = Incoming()
            if let fragment = entry.fragment {
                fresh.fragmentCount = fragment.count
                fresh.received = [Bool](repeating: false, count: fragment.count)
                fresh.bytes = [UInt8](repeating: 0, count: fragment.count * fragmentBytes)
                memoryChange += fresh.bytes.count
            }
            incoming.insert(entry.id, fresh)
        }
        let completed: Bool = incoming.modify(entry.id) { message -> Bool in
            guard !message.isComplete, !message.delivered else { return false }
            if let fragment = entry.fragment {
                guard !message.received[fragment.index] else { return false }
                message.received[fragment.index] = true
                message.receivedCount += 1
                let start = fragment.index * fragmentBytes
                message.bytes.withUnsafeMutableBytes { raw in
                    UnsafeMutableRawBufferPointer(rebasing: raw[start..<start + entry.payload.count]).copyMemory(from: entry.payload)
                }
                if fragment.index == fragment.count - 1 { message.length = start + entry.payload.count }
                guard message.receivedCount == message.fragmentCount else { return false }
                memoryChange -= message.bytes.count
                message.bytes.removeLast(message.bytes.count - message.length)
            } else {
                message.bytes = Array(entry.payload)
                message.length = entry.payload.count
            }
            message.isComplete = true
            return true
        } ?? false
        guard completed else { return memoryChange }
        statistics.messagesReceived &+= 1
        if !ordered {
            incoming.modify(entry.id) { message in
                ready.push(message.bytes)
                message.bytes = []
                message.delivered = true
            }
            while incoming[expected]?.delivered == true {
                incoming.remove(expected)
                expected &+= 1
            }
        }
        return memoryChange
    }

    /// The next message for the application, if any.
    func receive() -> [UInt8]? {
        if !ordered { return ready.popFirst() }
        guard let message = incoming[expected], message.isComplete else { return nil }
        incoming.remove(expected)
        expected &+= 1
        return message.bytes
    }
}
