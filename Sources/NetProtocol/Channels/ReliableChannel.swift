/// Send and receive state of one reliable channel (ordered or unordered).
///
/// Messages are resent, not packets: each packet carries whatever is unacknowledged and due,
/// and an acknowledged packet frees exactly the messages (or fragments) it carried.
///
/// A value in memory its ``ChannelConnection`` owns and reaches through a pointer, so that the
/// per-message paths touch flat slots in place: no reference counting of the slots, no
/// exclusivity checks, no copies of a slot's arrays. Its windows are allocated on first use
/// and freed by ``release()``.
struct ReliableChannel {
    struct FragmentState {
        var lastSent: Double = -.infinity
        var acked = false
    }

    struct Outgoing {
        var bytes: [UInt8] = []
        /// One per fragment, for large messages only; a whole message keeps its own below.
        var fragments: [FragmentState] = []
        var lastSent: Double = -.infinity
        var ackedBytes: Int32 = 0
        var fragmentCount: UInt16 = 0
        var ackedCount: UInt16 = 0
        var acked = false

        var isComplete: Bool { Int(ackedCount) == max(1, Int(fragmentCount)) }

        @inline(__always)
        func isAcked(_ part: Int) -> Bool { fragmentCount == 0 ? acked : fragments[part].acked }
        @inline(__always)
        func sentAt(_ part: Int) -> Double { fragmentCount == 0 ? lastSent : fragments[part].lastSent }

        @inline(__always)
        mutating func markSent(_ part: Int, at time: Double) {
            if fragmentCount == 0 { lastSent = time } else { fragments[part].lastSent = time }
        }

        /// Records an ack of `part`; false if it was already acked or out of range.
        mutating func markAcked(_ part: Int) -> Bool {
            if fragmentCount == 0 {
                guard part == 0, !acked else { return false }
                acked = true
            } else {
                guard part < Int(fragmentCount), !fragments[part].acked else { return false }
                fragments[part].acked = true
            }
            ackedCount &+= 1
            return true
        }
    }

    struct Incoming {
        var bytes: [UInt8] = []
        /// Which fragments arrived, for large messages only.
        var received: [Bool] = []
        /// What the message is charged against the budget until the application takes it.
        var charge: Int32 = 0
        var length: Int32 = 0
        var fragmentCount: UInt16 = 0
        var receivedCount: UInt16 = 0
        var isComplete = false
        /// Unordered channels hand a message over at once and keep this marker for dedup.
        var delivered = false
    }

    /// A part (whole message or fragment) in flight, in the order it was last sent. Sending
    /// and resending take from the front and push to the back, so finding what is due costs
    /// nothing per queued fragment. Entries of parts acknowledged since are skipped when reached.
    struct InFlight {
        var sentAt: Double
        var id: UInt16
        var part: UInt16
    }

    struct Ready {
        var bytes: [UInt8]
        var charge: Int
    }

    /// Bookkeeping a queued or held part costs beyond its payload (per-fragment send times and
    /// flags, the in-flight entry), charged against the connection's budget.
    static let partOverheadBytes = 32
    /// Buffers of whole messages read in place (``ChannelConnection/withNextMessage(on:_:)``)
    /// kept for later arrivals, at most: enough for a tick's burst, so that a steady stream
    /// costs a copy per message, not an allocation. What they hold is counted in
    /// ``spareBytes`` and given back whenever the budget is short.
    static let maxSpareBuffers = 128

    let index: Int
    let ordered: Bool
    let fragmentBytes: Int
    let sendQueueSize: Int
    let receiveQueueSize: Int
    let maxMessageBytes: Int
    let maxFragments: Int
    private let spareLimit: Int

    private(set) var nextSendID: UInt16 = 0
    private(set) var oldestUnacked: UInt16 = 0
    private var outgoing: SequenceBuffer<Outgoing>
    private var inFlight: FlatRing<InFlight>
    /// The first message (and its first part) never sent yet; every message from it to
    /// `nextSendID` waits for its first send.
    private var unsentID: UInt16 = 0
    private var unsentPart = 0
    /// Receiving: the window starts at the next id to hand over (ordered) or the oldest id not
    /// yet received (unordered).
    private var expected: UInt16 = 0
    private var incoming: SequenceBuffer<Incoming>
    private var ready: FlatRing<Ready>
    private var spare: FlatRing<[UInt8]>
    /// Bytes queued to send (payloads and overhead) until acknowledged.
    private(set) var sendHeldBytes = 0
    /// Bytes held on the receiving side: reassembly buffers, finished messages waiting for an
    /// earlier id or for the application.
    private(set) var receiveHeldBytes = 0
    /// The part of it in reassemblies not finished yet.
    private(set) var reassemblingBytes = 0
    /// Capacity of the spare buffers.
    private(set) var spareBytes = 0

    init(index: Int, configuration: ChannelConfiguration, fragmentBytes: Int) {
        self.index = index
        ordered = configuration.kind == .reliableOrdered
        self.fragmentBytes = fragmentBytes
        sendQueueSize = configuration.sendQueueSize
        receiveQueueSize = configuration.receiveQueueSize
        maxMessageBytes = configuration.maxMessageBytes
        maxFragments = (configuration.maxMessageBytes + fragmentBytes - 1) / fragmentBytes
        spareLimit = min(configuration.receiveQueueSize, Self.maxSpareBuffers)
        // Windows start at a few slots and grow with the traffic (up to the queue sizes).
        outgoing = SequenceBuffer(capacity: configuration.sendQueueSize, initialCapacity: 8, blank: Outgoing())
        incoming = SequenceBuffer(capacity: configuration.receiveQueueSize, initialCapacity: 8, blank: Incoming())
        inFlight = FlatRing(initialCapacity: 16)
        ready = FlatRing(initialCapacity: 16)
        spare = FlatRing(initialCapacity: 8)
    }

    mutating func release() {
        outgoing.release()
        incoming.release()
        inFlight.release()
        ready.release()
        spare.release()
        spareBytes = 0
    }

    /// Memory the channel's windows take once used (they are allocated on first use), whatever
    /// flows through them.
    static func fixedBytes(_ configuration: ChannelConfiguration) -> Int {
        SequenceBuffer<Outgoing>.bytes(capacity: configuration.sendQueueSize)
            + configuration.sendQueueSize * MemoryLayout<InFlight>.stride
            + SequenceBuffer<Incoming>.bytes(capacity: configuration.receiveQueueSize)
            + 16 * MemoryLayout<Ready>.stride + min(configuration.receiveQueueSize, maxSpareBuffers) * MemoryLayout<[UInt8]>.stride
    }

    // MARK: Sending

    // Non-mutating members used on the hot paths are inlined (or mutating): a call that takes
    // this value as a non-mutating `self` through its pointer copies all of it first.
    @inline(__always)
    var queuedCount: Int { nextSendID.distance(from: oldestUnacked) }

    /// What queueing a message of `byteCount` bytes costs against the budget.
    @inline(__always)
    func sendCost(_ byteCount: Int) -> Int {
        byteCount + Self.partOverheadBytes * max(1, fragmentsNeeded(byteCount))
    }

    @inline(__always)
    private func fragmentsNeeded(_ byteCount: Int) -> Int {
        byteCount > fragmentBytes ? (byteCount + fragmentBytes - 1) / fragmentBytes : 0
    }

    /// Whether a message of `byteCount` bytes could be queued now, given `budget` bytes left.
    @inline(__always)
    func canSend(_ byteCount: Int, budget: Int) -> Bool {
        byteCount <= maxMessageBytes && queuedCount < sendQueueSize && sendCost(byteCount) <= budget
    }

    mutating func send(_ bytes: [UInt8], budget: Int) throws(ChannelSendError) -> UInt16 {
        guard bytes.count <= maxMessageBytes else { throw .messageTooLarge(maxBytes: maxMessageBytes) }
        guard queuedCount < sendQueueSize else { throw .queueFull }
        let cost = sendCost(bytes.count)
        guard cost <= budget else { throw .overBudget }
        let fragments = fragmentsNeeded(bytes.count)
        let id = nextSendID
        outgoing.reserve(span: queuedCount + 1)
        let slot = outgoing.insert(id, Outgoing())
        slot.pointee.bytes = bytes
        if fragments > 0 {
            slot.pointee.fragmentCount = UInt16(fragments)
            slot.pointee.fragments = [FragmentState](repeating: FragmentState(), count: fragments)
        }
        nextSendID &+= 1
        sendHeldBytes += cost
        return id
    }

    func progress(of id: UInt16) -> SendProgress? {
        if let message = outgoing.pointer(id) {
            return SendProgress(ackedBytes: Int(message.pointee.ackedBytes), totalBytes: message.pointee.bytes.count)
        }
        // Sent before and no longer queued: fully acknowledged.
        if oldestUnacked.isNewer(than: id) && nextSendID.isNewer(than: id) { return SendProgress(ackedBytes: 1, totalBytes: 1) }
        return nil
    }

    /// Writes what is due while it fits: resends whose delay has passed, oldest first, then
    /// parts never sent, in id order. `log` notes what went into the packet and may refuse
    /// (the packet's entry table is full). Returns whether anything due was left out.
    mutating func write(
        to writer: inout WireWriter, limit: Int, now: Double, resendDelay: Double,
        statistics: inout ConnectionStatistics, log: inout SentEntryLog
    ) -> Bool {
        // Each entry is looked at once per call at most: what is resent goes to the back.
        var resendChecks = inFlight.count
        while resendChecks > 0, let head = inFlight.first {
            resendChecks -= 1
            let part = Int(head.part)
            guard let message = outgoing.pointer(head.id), part < max(1, Int(message.pointee.fragmentCount)),
                !message.pointee.isAcked(part), message.pointee.sentAt(part) == head.sentAt
            else {
                inFlight.popFirst()  // acknowledged (or superseded) since it was sent
                continue
            }
            guard now - head.sentAt >= resendDelay else { break }
            switch writePart(message, id: head.id, part: part, to: &writer, limit: limit, now: now, log: &log) {
            case .written:
                statistics.resends &+= 1
                inFlight.popFirst()
            case .doesNotFit, .refused:
                return true
            }
        }
        while unsentID != nextSendID {
            guard let message = outgoing.pointer(unsentID) else { return true }
            switch writePart(message, id: unsentID, part: unsentPart, to: &writer, limit: limit, now: now, log: &log) {
            case .written:
                if unsentPart == 0 { statistics.messagesSent &+= 1 }
                unsentPart += 1
                if unsentPart >= max(1, Int(message.pointee.fragmentCount)) {
                    unsentID &+= 1
                    unsentPart = 0
                }
            case .doesNotFit, .refused:
                return true
            }
        }
        return false
    }

    private enum PartWrite { case written, doesNotFit, refused }

    @inline(__always)
    private mutating func writePart(
        _ message: UnsafeMutablePointer<Outgoing>, id: UInt16, part: Int, to writer: inout WireWriter, limit: Int, now: Double,
        log: inout SentEntryLog
    ) -> PartWrite {
        let isFragment = message.pointee.fragmentCount > 0
        let total = message.pointee.bytes.count
        let start = isFragment ? part * fragmentBytes : 0
        let end = isFragment ? min(total, start + fragmentBytes) : total
        let needed = ChannelWire.entryHeaderBytes(hasID: true, isFragment: isFragment, length: end - start) + (end - start)
        guard limit - writer.offset >= needed else { return .doesNotFit }
        guard log.record(channel: index, id: id, fragment: isFragment ? part : -1) else { return .refused }
        message.pointee.bytes.withUnsafeBytes { raw in
            ChannelWire.writeEntry(
                channel: index, id: id, fragment: isFragment ? (part, Int(message.pointee.fragmentCount)) : nil,
                payload: UnsafeRawBufferPointer(rebasing: raw[start..<end]), to: &writer)
        }
        message.pointee.markSent(part, at: now)
        inFlight.push(InFlight(sentAt: now, id: id, part: UInt16(part)))
        return .written
    }

    /// A packet carrying (id, fragment) was acknowledged.
    mutating func acknowledge(id: UInt16, fragment: Int) {
        if let message = outgoing.pointer(id) {
            let part = max(0, fragment)
            if message.pointee.markAcked(part) {
                let total = message.pointee.bytes.count
                if message.pointee.fragmentCount == 0 {
                    message.pointee.ackedBytes = Int32(total)
                } else {
                    let start = part * fragmentBytes
                    message.pointee.ackedBytes += Int32(min(total, start + fragmentBytes) - start)
                }
            }
        }
        while oldestUnacked != nextSendID, oldestUnacked != unsentID {
            guard let message = outgoing.pointer(oldestUnacked) else {
                oldestUnacked &+= 1
                continue
            }
            guard message.pointee.isComplete else { break }
            sendHeldBytes -= sendCost(message.pointee.bytes.count)
            outgoing.remove(oldestUnacked)
            oldestUnacked &+= 1
        }
    }

    // MARK: Receiving

    enum Admission {
        /// Storable; `cost` more bytes will be held once applied.
        case accept(cost: Int)
        /// Already delivered or older than the window: ignore, still ack.
        case ignore
        /// Outside the receive window for now: refuse the whole packet (no ack) so the sender
        /// retries.
        case backPressure
        /// Would take the connection over its memory budget: refuse the packet, like
        /// back-pressure, and count it towards the over-budget fault.
        case overBudget
        case fault(ChannelFault)
    }

    /// Checks an entry without applying it. `budget` is what the connection has left;
    /// `reassemblyBudget` what unfinished reassemblies may still take.
    mutating func admit(_ entry: ChannelWire.Entry, budget: Int, reassemblyBudget: Int) -> Admission {
        let distance = entry.id.distance(from: expected)
        if distance >= 0x8000 { return .ignore }
        if distance >= receiveQueueSize {
            return distance < receiveQueueSize + sendQueueSize
                ? .backPressure : .fault(.messageIDOutsideWindow(channel: index, id: entry.id))
        }
        if !ordered && ready.count >= receiveQueueSize { return .backPressure }
        let existing = incoming.pointer(entry.id)
        guard let fragment = entry.fragment else {
            guard entry.payload.count <= fragmentBytes else {
                return .fault(.oversizedMessage(channel: index, bytes: entry.payload.count))
            }
            if let existing {
                if existing.pointee.fragmentCount > 0 { return .fault(.inconsistentFragments(channel: index, id: entry.id)) }
                return .ignore
            }
            let cost = entry.payload.count + Self.partOverheadBytes
            return cost <= budget ? .accept(cost: cost) : .overBudget
        }
        guard fragment.count >= 2, fragment.count <= maxFragments, fragment.index < fragment.count else {
            return .fault(.invalidFragment(channel: index))
        }
        let isLast = fragment.index == fragment.count - 1
        guard isLast ? (1...fragmentBytes).contains(entry.payload.count) : entry.payload.count == fragmentBytes else {
            return .fault(.invalidFragment(channel: index))
        }
        let total = (fragment.count - 1) * fragmentBytes + (isLast ? entry.payload.count : 1)
        guard total <= maxMessageBytes else { return .fault(.oversizedMessage(channel: index, bytes: total)) }
        if let existing {
            if existing.pointee.isComplete || existing.pointee.delivered { return .ignore }
            guard Int(existing.pointee.fragmentCount) == fragment.count else {
                return .fault(.inconsistentFragments(channel: index, id: entry.id))
            }
            return .accept(cost: 0)
        }
        let cost = Self.reassemblyCharge(fragments: fragment.count, fragmentBytes: fragmentBytes)
        if cost > reassemblyBudget { return .backPressure }
        return cost <= budget ? .accept(cost: cost) : .overBudget
    }

    /// Whether `id` is the message delivery waits for: the next in order (ordered) or the oldest
    /// not yet received (unordered). Its entries are taken even from a refused packet, from
    /// headroom kept for it, so that a full window can always drain.
    @inline(__always)
    func isHead(_ id: UInt16) -> Bool { id == expected }

    /// A reassembly buffer holds whole fragments from its first fragment on, until delivered.
    static func reassemblyCharge(fragments: Int, fragmentBytes: Int) -> Int {
        fragments * fragmentBytes + fragments + partOverheadBytes
    }

    /// Applies an admitted entry (its cost is added to ``receiveHeldBytes``).
    mutating func apply(_ entry: ChannelWire.Entry, statistics: inout ConnectionStatistics) {
        let message: UnsafeMutablePointer<Incoming>
        if let existing = incoming.pointer(entry.id) {
            message = existing
        } else {
            incoming.reserve(span: entry.id.distance(from: expected) + 1)
            message = incoming.insert(entry.id, Incoming())
            let charge: Int
            if let fragment = entry.fragment {
                message.pointee.fragmentCount = UInt16(fragment.count)
                message.pointee.received = [Bool](repeating: false, count: fragment.count)
                message.pointee.bytes = [UInt8](repeating: 0, count: fragment.count * fragmentBytes)
                charge = Self.reassemblyCharge(fragments: fragment.count, fragmentBytes: fragmentBytes)
                reassemblingBytes += charge
            } else {
                charge = entry.payload.count + Self.partOverheadBytes
            }
            message.pointee.charge = Int32(charge)
            receiveHeldBytes += charge
        }
        guard !message.pointee.isComplete, !message.pointee.delivered else { return }
        if let fragment = entry.fragment {
            guard !message.pointee.received[fragment.index] else { return }
            message.pointee.received[fragment.index] = true
            message.pointee.receivedCount &+= 1
            let start = fragment.index * fragmentBytes
            message.pointee.bytes.withUnsafeMutableBytes { raw in
                UnsafeMutableRawBufferPointer(rebasing: raw[start..<start + entry.payload.count]).copyMemory(from: entry.payload)
            }
            if fragment.index == fragment.count - 1 { message.pointee.length = Int32(start + entry.payload.count) }
            guard message.pointee.receivedCount == message.pointee.fragmentCount else { return }
            // The storage keeps its capacity, so the charge stays that of whole fragments.
            message.pointee.bytes.removeLast(message.pointee.bytes.count - Int(message.pointee.length))
            message.pointee.received = []
            reassemblingBytes -= Int(message.pointee.charge)
        } else {
            if let buffer = spare.popFirst() {
                spareBytes -= buffer.capacity
                message.pointee.bytes = buffer
                message.pointee.bytes.overwrite(with: entry.payload)
            } else {
                message.pointee.bytes.append(contentsOf: entry.payload)
            }
            message.pointee.length = Int32(entry.payload.count)
        }
        message.pointee.isComplete = true
        statistics.messagesReceived &+= 1
        if !ordered {
            var bytes: [UInt8] = []
            swap(&bytes, &message.pointee.bytes)
            ready.push(Ready(bytes: bytes, charge: Int(message.pointee.charge)))
            message.pointee.charge = 0
            message.pointee.delivered = true
            while let head = incoming.pointer(expected), head.pointee.delivered {
                incoming.remove(expected)
                expected &+= 1
            }
        }
    }

    /// Size of the message ``receive()`` would return next, if any.
    @inline(__always)
    var nextMessageSize: Int? {
        if !ordered { return ready.firstPointer?.pointee.bytes.count }
        guard let message = incoming.pointer(expected), message.pointee.isComplete else { return nil }
        return message.pointee.bytes.count
    }

    /// The next message for the application, if any.
    mutating func receive() -> [UInt8]? {
        if !ordered {
            guard let next = ready.popFirst() else { return nil }
            receiveHeldBytes -= next.charge
            return next.bytes
        }
        guard let message = incoming.pointer(expected), message.pointee.isComplete else { return nil }
        var bytes: [UInt8] = []
        swap(&bytes, &message.pointee.bytes)
        receiveHeldBytes -= Int(message.pointee.charge)
        incoming.remove(expected)
        expected &+= 1
        return bytes
    }

    /// Takes back the buffer of a message the application read in place, for a later arrival.
    mutating func recycle(_ buffer: consuming [UInt8]) {
        guard spare.count < spareLimit, buffer.capacity <= fragmentBytes + Self.partOverheadBytes else { return }
        spareBytes += buffer.capacity
        spare.push(buffer)
    }

    /// Frees the spare buffers (the budget needs their bytes).
    mutating func releaseSpares() {
        spare.removeAll()
        spareBytes = 0
    }
}
