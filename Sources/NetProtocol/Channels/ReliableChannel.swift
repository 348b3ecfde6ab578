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
        /// What the message is charged against the budget until the application takes it.
        var charge = 0
    }

    /// A part (whole message or fragment) in flight, in the order it was last sent. Sending
    /// and resending take from the front and push to the back, so finding what is due costs
    /// nothing per queued fragment. Entries of parts acknowledged since are skipped when reached.
    struct InFlight {
        var id: UInt16
        var part: UInt16
        var sentAt: Double
    }

    /// Bookkeeping a queued or held part costs beyond its payload (per-fragment send times and
    /// flags, the in-flight entry), charged against the connection's budget.
    static let partOverheadBytes = 32

    let index: Int
    let configuration: ChannelConfiguration
    let ordered: Bool
    let fragmentBytes: Int

    private(set) var nextSendID: UInt16 = 0
    private(set) var oldestUnacked: UInt16 = 0
    private var outgoing: SequenceBuffer<Outgoing>
    private var inFlight: Ring<InFlight>
    /// The first message (and its first part) never sent yet; every message from it to
    /// `nextSendID` waits for its first send.
    private var unsentID: UInt16 = 0
    private var unsentPart = 0
    /// Receiving: the window starts at the next id to hand over (ordered) or the oldest id not
    /// yet received (unordered).
    private var expected: UInt16 = 0
    private var incoming: SequenceBuffer<Incoming>
    private var ready: Ring<(bytes: [UInt8], charge: Int)>
    /// Bytes queued to send (payloads and overhead) until acknowledged.
    private(set) var sendHeldBytes = 0
    /// Bytes held on the receiving side: reassembly buffers, finished messages waiting for an
    /// earlier id or for the application.
    private(set) var receiveHeldBytes = 0
    /// The part of it in reassemblies not finished yet.
    private(set) var reassemblingBytes = 0

    init(index: Int, configuration: ChannelConfiguration, fragmentBytes: Int) {
        self.index = index
        self.configuration = configuration
        self.ordered = configuration.kind == .reliableOrdered
        self.fragmentBytes = fragmentBytes
        outgoing = SequenceBuffer(capacity: configuration.sendQueueSize, blank: Outgoing())
        incoming = SequenceBuffer(capacity: configuration.receiveQueueSize, blank: Incoming())
        inFlight = Ring(capacity: configuration.sendQueueSize)
        ready = Ring(capacity: 16)
    }

    /// Memory the channel's fixed structures take, whatever flows through it.
    static func fixedBytes(_ configuration: ChannelConfiguration) -> Int {
        configuration.sendQueueSize * (MemoryLayout<Outgoing>.stride + 4 + MemoryLayout<InFlight>.stride)
            + configuration.receiveQueueSize * (MemoryLayout<Incoming>.stride + 4) + 16 * MemoryLayout<[UInt8]?>.stride
    }

    // MARK: Sending

    var queuedCount: Int { nextSendID.distance(from: oldestUnacked) }

    /// What queueing a message of `byteCount` bytes costs against the budget.
    func sendCost(_ byteCount: Int) -> Int {
        byteCount + Self.partOverheadBytes * max(1, fragmentsNeeded(byteCount))
    }

    private func fragmentsNeeded(_ byteCount: Int) -> Int {
        byteCount > fragmentBytes ? (byteCount + fragmentBytes - 1) / fragmentBytes : 0
    }

    /// Whether a message of `byteCount` bytes could be queued now, given `budget` bytes left.
    func canSend(_ byteCount: Int, budget: Int) -> Bool {
        byteCount <= configuration.maxMessageBytes && queuedCount < configuration.sendQueueSize && sendCost(byteCount) <= budget
    }

    func send(_ bytes: [UInt8], budget: Int) throws(ChannelSendError) -> UInt16 {
        guard bytes.count <= configuration.maxMessageBytes else { throw .messageTooLarge(maxBytes: configuration.maxMessageBytes) }
        guard queuedCount < configuration.sendQueueSize else { throw .queueFull }
        guard sendCost(bytes.count) <= budget else { throw .overBudget }
        let fragments = fragmentsNeeded(bytes.count)
        var message = Outgoing(bytes: bytes, fragmentCount: fragments)
        if fragments > 0 {
            message.fragmentLastSent = [Double](repeating: -.infinity, count: fragments)
            message.fragmentAcked = [Bool](repeating: false, count: fragments)
        }
        let id = nextSendID
        outgoing.insert(id, message)
        nextSendID &+= 1
        sendHeldBytes += sendCost(bytes.count)
        return id
    }

    func progress(of id: UInt16) -> SendProgress? {
        if let message = outgoing[id] { return SendProgress(ackedBytes: message.ackedBytes, totalBytes: message.bytes.count) }
        // Sent before and no longer queued: fully acknowledged.
        if oldestUnacked.isNewer(than: id) && nextSendID.isNewer(than: id) { return SendProgress(ackedBytes: 1, totalBytes: 1) }
        return nil
    }

    /// Writes what is due while it fits: resends whose delay has passed, oldest first, then
    /// parts never sent, in id order. `record` notes what went into the packet and may refuse
    /// (the packet's entry table is full). Returns whether anything due was left out.
    func write(
        to writer: inout WireWriter, limit: Int, now: Double, resendDelay: Double,
        statistics: inout ConnectionStatistics, record: (UInt16, Int) -> Bool
    ) -> Bool {
        // Each entry is looked at once per call at most: what is resent goes to the back.
        var resendChecks = inFlight.count
        while resendChecks > 0, let head = inFlight.first {
            resendChecks -= 1
            let part = Int(head.part)
            guard let message = outgoing[head.id], part < max(1, message.fragmentCount), !message.isAcked(part),
                message.sentAt(part) == head.sentAt
            else {
                inFlight.popFirst()  // acknowledged (or superseded) since it was sent
                continue
            }
            guard now - head.sentAt >= resendDelay else { break }
            switch writePart(of: head.id, part: part, to: &writer, limit: limit, now: now, record: record) {
            case .written:
                statistics.resends &+= 1
                inFlight.popFirst()
            case .doesNotFit, .refused:
                return true
            }
        }
        while unsentID != nextSendID {
            switch writePart(of: unsentID, part: unsentPart, to: &writer, limit: limit, now: now, record: record) {
            case .written:
                if unsentPart == 0 { statistics.messagesSent &+= 1 }
                unsentPart += 1
                if unsentPart >= max(1, outgoing[unsentID]?.fragmentCount ?? 0) {
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

    private func writePart(
        of id: UInt16, part: Int, to writer: inout WireWriter, limit: Int, now: Double, record: (UInt16, Int) -> Bool
    ) -> PartWrite {
        outgoing.modify(id) { message -> PartWrite in
            let isFragment = message.fragmentCount > 0
            let start = isFragment ? part * fragmentBytes : 0
            let end = isFragment ? min(message.bytes.count, start + fragmentBytes) : message.bytes.count
            let needed = ChannelWire.entryHeaderBytes(hasID: true, isFragment: isFragment, length: end - start) + (end - start)
            guard limit - writer.offset >= needed else { return .doesNotFit }
            guard record(id, isFragment ? part : -1) else { return .refused }
            message.bytes.withUnsafeBytes { raw in
                ChannelWire.writeEntry(
                    channel: index, id: id, fragment: isFragment ? (part, message.fragmentCount) : nil,
                    payload: UnsafeRawBufferPointer(rebasing: raw[start..<end]), to: &writer)
            }
            message.markSent(part, at: now)
            inFlight.push(InFlight(id: id, part: UInt16(part), sentAt: now))
            return .written
        } ?? .refused
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
        while oldestUnacked != nextSendID, oldestUnacked != unsentID, outgoing[oldestUnacked]?.isComplete ?? true {
            if let message = outgoing[oldestUnacked] { sendHeldBytes -= sendCost(message.bytes.count) }
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
    func admit(_ entry: ChannelWire.Entry, budget: Int, reassemblyBudget: Int) -> Admission {
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
            if let existing {
                if existing.fragmentCount > 0 { return .fault(.inconsistentFragments(channel: index, id: entry.id)) }
                return .ignore
            }
            let cost = entry.payload.count + Self.partOverheadBytes
            return cost <= budget ? .accept(cost: cost) : .overBudget
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
            return .accept(cost: 0)
        }
        let cost = Self.reassemblyCharge(fragments: fragment.count, fragmentBytes: fragmentBytes)
        if cost > reassemblyBudget { return .backPressure }
        return cost <= budget ? .accept(cost: cost) : .overBudget
    }

    /// Whether `id` is the message delivery waits for: the next in order (ordered) or the oldest
    /// not yet received (unordered). Its entries are taken even from a refused packet, from
    /// headroom kept for it, so that a full window can always drain.
    func isHead(_ id: UInt16) -> Bool { id == expected }

    /// A reassembly buffer holds whole fragments from its first fragment on, until delivered.
    static func reassemblyCharge(fragments: Int, fragmentBytes: Int) -> Int {
        fragments * fragmentBytes + fragments + partOverheadBytes
    }

    /// Applies an admitted entry (its cost is added to ``receiveHeldBytes``).
    func apply(_ entry: ChannelWire.Entry, statistics: inout ConnectionStatistics) {
        if !incoming.contains(entry.id) {
            var fresh = Incoming()
            if let fragment = entry.fragment {
                fresh.fragmentCount = fragment.count
                fresh.received = [Bool](repeating: false, count: fragment.count)
                fresh.bytes = [UInt8](repeating: 0, count: fragment.count * fragmentBytes)
                fresh.charge = Self.reassemblyCharge(fragments: fragment.count, fragmentBytes: fragmentBytes)
                reassemblingBytes += fresh.charge
            } else {
                fresh.charge = entry.payload.count + Self.partOverheadBytes
            }
            receiveHeldBytes += fresh.charge
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
                // The storage keeps its capacity, so the charge stays that of whole fragments.
                message.bytes.removeLast(message.bytes.count - message.length)
                reassemblingBytes -= message.charge
            } else {
                message.bytes = Array(entry.payload)
                message.length = entry.payload.count
            }
            message.isComplete = true
            return true
        } ?? false
        guard completed else { return }
        statistics.messagesReceived &+= 1
        if !ordered {
            incoming.modify(entry.id) { message in
                ready.push((message.bytes, message.charge))
                message.bytes = []
                message.charge = 0
                message.delivered = true
            }
            while incoming[expected]?.delivered == true {
                incoming.remove(expected)
                expected &+= 1
            }
        }
    }

    /// Size of the message ``receive()`` would return next, if any.
    var nextMessageSize: Int? {
        if !ordered { return ready.first?.bytes.count }
        guard let message = incoming[expected], message.isComplete else { return nil }
        return message.bytes.count
    }

    /// The next message for the application, if any.
    func receive() -> [UInt8]? {
        if !ordered {
            guard let next = ready.popFirst() else { return nil }
            receiveHeldBytes -= next.charge
            return next.bytes
        }
        guard let message = incoming[expected], message.isComplete else { return nil }
        incoming.remove(expected)
        expected &+= 1
        receiveHeldBytes -= message.charge
        return message.bytes
    }
}
