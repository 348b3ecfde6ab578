/// One end of a message connection over an unreliable datagram link (the netcode transport's
/// payloads, or the link simulator): packet acknowledgements, the four channel kinds, large
/// messages, statistics, a per-tick byte budget and a bandwidth limit. Sans-IO.
///
/// Each tick: feed every received payload to ``handlePacket(_:now:)``, read messages with
/// ``receive(on:)``, queue new ones with ``send(_:on:)``, then call
/// ``generatePackets(now:_:)`` once and send what it emits. If ``fault`` becomes non-nil the
/// peer broke the protocol: disconnect it.
/// - Note: All mutable state lives in one ``ConnectionCore`` value behind a pointer the class
///   owns, and the channels in flat arrays of values beside it. The per-packet and per-message
///   paths are mutating methods on those values: stored-property accesses of a class would each
///   pay a dynamic exclusivity check and reference counting, which on this path cost more than
///   the work itself. Nothing reachable from these pointers escapes the connection.
public final class ChannelConnection {
    public let configuration: ConnectionConfiguration
    /// The budget shared with the other connections of this thread, if any.
    public let pool: ChannelMemoryPool?
    private let core: UnsafeMutablePointer<ConnectionCore>
    /// Where packets are built when the pool's buffer is not to hand (no pool, or in use):
    /// allocated then.
    private var ownPacketBuffer: UnsafeMutableRawBufferPointer?

    public var fault: ChannelFault? { core.pointee.fault }

    /// - Parameter pool: a budget shared with other connections; the connection counts what it
    ///   holds in it for as long as it lives.
    public init(configuration: ConnectionConfiguration = ConnectionConfiguration(), pool: ChannelMemoryPool? = nil) throws(ConnectionConfiguration.Invalid) {
        try configuration.validate()
        self.configuration = configuration
        self.pool = pool
        core = .allocate(capacity: 1)
        core.initialize(to: ConnectionCore(configuration: configuration, pool: pool))
        core.pointee.reportHeldBytes()
    }

    deinit {
        pool?.adjust(by: -core.pointee.reportedBytes)
        core.pointee.release()
        core.deinitialize(count: 1)
        core.deallocate()
        ownPacketBuffer?.deallocate()
    }

    /// Memory a connection with `configuration` takes for its fixed structures, charged against
    /// its budget from the start: packet history, the channels' windows (allocated when a
    /// channel is first used), the packet buffer.
    public static func fixedBytes(of configuration: ConnectionConfiguration) -> Int {
        let history = SequenceBuffer<ConnectionCore.SentPacket>.bytes(capacity: configuration.sentPacketHistory)
            + SentEntryLog.capacity(sentPacketHistory: configuration.sentPacketHistory) * MemoryLayout<SentEntry>.stride
            + SequenceSet.bytes(capacity: configuration.receivedPacketHistory)
            + StatisticsEstimator.sampleWindow * MemoryLayout<Float>.stride
        let channels = configuration.channels.reduce(0) { sum, channel in
            sum + (channel.kind.isReliable ? ReliableChannel.fixedBytes(channel) : UnreliableChannel.fixedBytes(channel))
        }
        // Each channel's state, its slot and its pressure mark.
        let perChannel = configuration.channels.reduce(0) { sum, channel in
            sum + (channel.kind.isReliable ? MemoryLayout<ReliableChannel>.stride : MemoryLayout<UnreliableChannel>.stride)
                + MemoryLayout<Int>.stride + MemoryLayout<Double>.stride
        }
        return MemoryLayout<ConnectionCore>.stride + 64 + history + channels + perChannel + configuration.maxPacketBytes
    }

    static func headroomBytes(of configuration: ConnectionConfiguration) -> Int {
        configuration.channels.reduce(0) { largest, channel in
            guard channel.kind.isReliable else { return largest }
            let fragments = (channel.maxMessageBytes + configuration.fragmentBytes - 1) / configuration.fragmentBytes
            return max(largest, ReliableChannel.reassemblyCharge(fragments: max(1, fragments), fragmentBytes: configuration.fragmentBytes))
        }
    }

    static func sendShareBytes(of configuration: ConnectionConfiguration) -> Int {
        max(0, (configuration.memoryBudgetBytes - fixedBytes(of: configuration) - headroomBytes(of: configuration)) / 2)
    }

    /// Everything the connection holds now, in bytes, counted against
    /// ``ConnectionConfiguration/memoryBudgetBytes``: the fixed part, send queues until
    /// acknowledged, received messages until taken, unfinished reassemblies, and buffers kept
    /// for reuse (given back whenever the budget is short).
    public var heldBytes: Int { core.pointee.heldBytes }

    /// The most this connection has held, as of its last operation.
    public var peakHeldBytes: Int { core.pointee.peakHeldBytes }

    /// The latest measurements.
    public var statistics: ConnectionStatistics { core.pointee.estimator.current }

    /// The delay before an unacknowledged message is sent again: the smoothed RTT plus four
    /// deviations, within the configured floor and ceiling.
    public var resendDelay: Double { core.pointee.resendDelay }

    // MARK: - Application side

    /// Queues a message. Reliable channels return a handle for ``progress(of:)``.
    @discardableResult
    public func send(_ bytes: [UInt8], on channel: Int) throws(ChannelSendError) -> MessageHandle? {
        try core.pointee.send(bytes, on: channel)
    }

    /// Whether a message of `byteCount` bytes could be queued on `channel` now (size, queue and
    /// budget), so that a caller can leave work undone (back-pressure) rather than fail it.
    public func canSend(_ byteCount: Int, on channel: Int) -> Bool {
        core.pointee.canSend(byteCount, on: channel)
    }

    /// The next message received on `channel`, if any.
    public func receive(on channel: Int) -> [UInt8]? {
        core.pointee.receive(on: channel)
    }

    /// Reads the next message received on `channel` in place: `body` gets it for the length of
    /// the call (keep a copy to hold on to it). The buffer is then reused for a later message,
    /// so a steady stream costs no allocation per message.
    public func withNextMessage<R>(on channel: Int, _ body: ([UInt8]) -> R) -> R? {
        // The message is taken out before `body` runs and its buffer given back after, so that
        // `body` may use this connection.
        guard let message = core.pointee.receive(on: channel, report: false) else { return nil }
        let result = body(message)
        core.pointee.recycle(consume message, on: channel)
        return result
    }

    /// The size of the message ``receive(on:)`` would return next, without taking it.
    public func nextMessageSize(on channel: Int) -> Int? {
        core.pointee.nextMessageSize(on: channel)
    }

    /// Acknowledged bytes of a reliable message, for progress bars on large messages.
    public func progress(of handle: MessageHandle) -> SendProgress? {
        core.pointee.progress(of: handle)
    }

    /// Reliable messages waiting for acknowledgement on `channel`.
    public func unacknowledgedCount(on channel: Int) -> Int {
        core.pointee.unacknowledgedCount(on: channel)
    }

    // MARK: - Link side

    /// Processes one packet from the peer. Malformed or hostile content sets ``fault``.
    public func handlePacket(_ packet: UnsafeRawBufferPointer, now: Double) {
        core.pointee.handlePacket(packet, now: now)
    }

    public func handlePacket(_ packet: [UInt8], now: Double) {
        packet.withUnsafeBytes { handlePacket($0, now: now) }
    }

    /// Builds this tick's packets: as many as the per-tick budget and the bandwidth limit allow,
    /// channels filled in priority order; an ack-only packet when only acks are owed. Each packet
    /// is valid only during the `emit` call.
    public func generatePackets(now: Double, _ emit: (UnsafeRawBufferPointer) -> Void) {
        guard var tick = core.pointee.beginTick(now: now) else { return }
        let packetBuffer: UnsafeMutableRawBufferPointer
        var usesPoolBuffer = false
        if let pool, !pool.packetBufferInUse {
            pool.packetBufferInUse = true
            usesPoolBuffer = true
            packetBuffer = pool.packetBuffer
        } else if let own = ownPacketBuffer {
            packetBuffer = own
        } else {
            packetBuffer = .allocate(byteCount: configuration.maxPacketBytes, alignment: 16)
            ownPacketBuffer = packetBuffer
        }
        defer { if usesPoolBuffer { pool?.packetBufferInUse = false } }
        // Each packet is built by the core and emitted from here, outside any access to it, so
        // that `emit` may use this connection.
        for _ in 0..<64 {
            let length = core.pointee.nextPacket(&tick, into: packetBuffer, now: now)
            guard length > 0 else { break }
            emit(UnsafeRawBufferPointer(rebasing: packetBuffer[0..<length]))
            if !tick.carriedData || !tick.dataLeft { break }
        }
        core.pointee.endTick(tick)
    }
}

/// What each sent packet carried, one entry per reliable message or fragment.
struct SentEntry {
    var id: UInt16
    /// ``SentEntryLog/wholeMessage`` for a whole message.
    var fragment: UInt16
    var channel: UInt8
}

/// The entries of sent packets, in a ring shared by all packets (allocated with the first
/// reliable entry, small, and doubled up to ``maxCapacity`` whenever it would otherwise lap an
/// entry of a packet whose fate is still open). If the ring laps a packet that was never
/// acked, that packet's messages are simply resent on their timers.
struct SentEntryLog {
    static let wholeMessage = UInt16.max
    private(set) var entries: UnsafeMutablePointer<SentEntry>?
    let maxCapacity: Int
    private(set) var capacity: Int
    /// Entries one packet may carry (its table is full beyond).
    let perPacketLimit: Int
    private(set) var cursor: UInt32 = 0
    /// The oldest entry the ring still holds: a growth copies only what was live.
    private var validFrom: UInt32 = 0
    /// Entries of the packet being built.
    var packetCount = 0
    /// Where the entries of the oldest packet not yet acked or given up on begin (set before
    /// each packet is built).
    var liveStart: UInt32 = 0

    /// Room for what the remembered packets carry on average, eight entries each.
    static func capacity(sentPacketHistory: Int) -> Int { sentPacketHistory * 8 }

    init(sentPacketHistory: Int) {
        maxCapacity = Self.capacity(sentPacketHistory: sentPacketHistory)
        capacity = min(64, maxCapacity)
        perPacketLimit = min(1024, maxCapacity)
    }

    /// Bytes the ring has allocated.
    var allocatedBytes: Int { entries == nil ? 0 : capacity * MemoryLayout<SentEntry>.stride }

    /// Notes an entry of the packet being built.
    @inline(__always)
    mutating func record(channel: Int, id: UInt16, fragment: Int) -> Bool {
        guard packetCount < perPacketLimit else { return false }
        if entries == nil {
            entries = .allocate(capacity: capacity)
        } else if cursor &- liveStart >= UInt32(capacity) && capacity < maxCapacity {
            grow(liveStart: liveStart)
        }
        (entries.unsafelyUnwrapped + (Int(cursor) & (capacity - 1)))
            .initialize(to: SentEntry(id: id, fragment: fragment < 0 ? Self.wholeMessage : UInt16(fragment), channel: UInt8(channel)))
        cursor &+= 1
        if cursor &- validFrom > UInt32(capacity) { validFrom = cursor &- UInt32(capacity) }
        packetCount += 1
        return true
    }

    private mutating func grow(liveStart: UInt32) {
        guard let old = entries else { return }
        let grown = min(maxCapacity, capacity * 2)
        let fresh = UnsafeMutablePointer<SentEntry>.allocate(capacity: grown)
        // Absolute entry numbers keep their meaning; the slots are their numbers modulo the size.
        let held = min(UInt32(capacity), cursor &- liveStart, cursor &- validFrom)
        var index = cursor &- held
        while index != cursor {
            (fresh + (Int(index) & (grown - 1))).initialize(to: old[Int(index) & (capacity - 1)])
            index &+= 1
        }
        old.deallocate()
        entries = fresh
        capacity = grown
        validFrom = cursor &- held
    }

    /// The entry `offset` places after `start`, if the ring still holds it.
    @inline(__always)
    func entry(start: UInt32, offset: Int) -> SentEntry? {
        guard let entries, cursor &- start <= min(UInt32(capacity), cursor &- validFrom) else { return nil }
        return entries[(Int(start) &+ offset) & (capacity - 1)]
    }

    mutating func release() {
        entries?.deallocate()
        entries = nil
    }
}

/// Everything a ``ChannelConnection`` changes as it runs, in one value the class keeps behind
/// a pointer.
struct ConnectionCore {
    struct SentPacket {
        var time: Double = 0
        var entryStart: UInt32 = 0
        var bytes: UInt16 = 0
        var entryCount: UInt16 = 0
        var acked = false
    }

    /// The state of one `generatePackets` call.
    struct Tick {
        var budget: Int
        let resendDelay: Double
        var dataLeft = false
        var carriedData = false
    }

    // Configuration, copied out of ``ConnectionConfiguration`` so that the paths below never
    // touch its array.
    let channelCount: Int
    /// Bit `i`: channel `i` is reliable.
    let reliableChannels: UInt64
    /// Bit `i`: channel `i`'s entries carry an id.
    let idChannels: UInt64
    let maxPacketBytes: Int
    let budgetBytesPerTick: Int
    let bandwidthBytesPerSecond: Int?
    let minimumResendDelay: Double
    let maximumResendDelay: Double
    let initialResendDelay: Double
    let receivedPacketHistory: Int
    let maxReassemblyBytes: Int
    let memoryBudgetBytes: Int
    let overBudgetGraceSeconds: Double
    let maxUnreliableMessageBytes: Int
    let fixedBytes: Int
    /// The most the send queues may hold together: half of what the budget leaves beyond the
    /// fixed part and the headroom. Receiving always keeps the other half, so two ends that
    /// both send as fast as they can never fill each other's budget with their own queues and
    /// stop acknowledging each other.
    let sendShareBytes: Int
    /// Kept free for head-of-line messages (see ``ReliableChannel/isHead(_:)``): the largest
    /// reliable message's charge.
    let headroomBytes: Int
    /// The class keeps the pool alive for as long as this value lives.
    unowned(unsafe) let pool: ChannelMemoryPool?

    var fault: ChannelFault?
    private var sequence: UInt16 = 0
    private var sentPackets: SequenceBuffer<SentPacket>
    private var log: SentEntryLog
    private var lossCursor: UInt16 = 0
    private let receivedPackets: SequenceSet
    private var newestReceived: UInt16 = 0
    private var hasReceived = false
    private var ackPending = false
    /// The channels of each kind, in channel order; `slots[channel]` is a channel's place in
    /// the array of its kind.
    private let reliable: UnsafeMutablePointer<ReliableChannel>
    private let reliableCount: Int
    private let unreliable: UnsafeMutablePointer<UnreliableChannel>
    private let unreliableCount: Int
    private let slots: UnsafeMutablePointer<Int>
    var estimator = StatisticsEstimator()
    private var tokens: Double
    private var lastRefill: Double?
    /// What this connection last told the pool it holds.
    private(set) var reportedBytes = 0
    private(set) var peakHeldBytes = 0
    /// Per reliable channel: since when entries on it have been refused (window or budget) with
    /// no message delivered on it since (NaN: not refused). A peer that keeps any channel so
    /// past the grace period is faulted; delivery on another channel does not excuse it.
    private let pressedSince: UnsafeMutablePointer<Double>

    init(configuration: ConnectionConfiguration, pool: ChannelMemoryPool?) {
        let channels = configuration.channels
        channelCount = channels.count
        var reliableChannels: UInt64 = 0
        var idChannels: UInt64 = 0
        for (index, channel) in channels.enumerated() {
            if channel.kind.isReliable { reliableChannels |= 1 << UInt64(index) }
            if channel.kind != .unreliableUnordered { idChannels |= 1 << UInt64(index) }
        }
        self.reliableChannels = reliableChannels
        self.idChannels = idChannels
        maxPacketBytes = configuration.maxPacketBytes
        budgetBytesPerTick = configuration.budgetBytesPerTick
        bandwidthBytesPerSecond = configuration.bandwidthBytesPerSecond
        minimumResendDelay = configuration.minimumResendDelay
        maximumResendDelay = configuration.maximumResendDelay
        initialResendDelay = configuration.initialResendDelay
        receivedPacketHistory = configuration.receivedPacketHistory
        maxReassemblyBytes = configuration.maxReassemblyBytes
        memoryBudgetBytes = configuration.memoryBudgetBytes
        overBudgetGraceSeconds = configuration.overBudgetGraceSeconds
        maxUnreliableMessageBytes = configuration.maxUnreliableMessageBytes
        fixedBytes = ChannelConnection.fixedBytes(of: configuration)
        sendShareBytes = ChannelConnection.sendShareBytes(of: configuration)
        headroomBytes = ChannelConnection.headroomBytes(of: configuration)
        self.pool = pool
        sentPackets = SequenceBuffer(capacity: configuration.sentPacketHistory, blank: SentPacket())
        sentPackets.allocate()
        log = SentEntryLog(sentPacketHistory: configuration.sentPacketHistory)
        receivedPackets = SequenceSet(capacity: configuration.receivedPacketHistory)
        let reliableCount = channels.filter { $0.kind.isReliable }.count
        let reliable = UnsafeMutablePointer<ReliableChannel>.allocate(capacity: max(1, reliableCount))
        let unreliable = UnsafeMutablePointer<UnreliableChannel>.allocate(capacity: max(1, channels.count - reliableCount))
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: channels.count)
        var reliableSlot = 0
        var unreliableSlot = 0
        for (index, channel) in channels.enumerated() {
            if channel.kind.isReliable {
                (reliable + reliableSlot).initialize(to: ReliableChannel(index: index, configuration: channel, fragmentBytes: configuration.fragmentBytes))
                slots[index] = reliableSlot
                reliableSlot += 1
            } else {
                (unreliable + unreliableSlot).initialize(to: UnreliableChannel(index: index, configuration: channel))
                slots[index] = unreliableSlot
                unreliableSlot += 1
            }
        }
        self.reliable = reliable
        self.reliableCount = reliableSlot
        self.unreliable = unreliable
        self.unreliableCount = unreliableSlot
        self.slots = slots
        let pressedSince = UnsafeMutablePointer<Double>.allocate(capacity: channels.count)
        pressedSince.initialize(repeating: .nan, count: channels.count)
        self.pressedSince = pressedSince
        tokens = Double(configuration.bandwidthBytesPerSecond ?? 0)
    }

    mutating func release() {
        sentPackets.release()
        log.release()
        receivedPackets.release()
        for index in 0..<reliableCount { reliable[index].release() }
        for index in 0..<unreliableCount { unreliable[index].release() }
        reliable.deinitialize(count: reliableCount)
        reliable.deallocate()
        unreliable.deinitialize(count: unreliableCount)
        unreliable.deallocate()
        slots.deallocate()
        pressedSince.deallocate()
    }

    // Helpers below are inlined (or mutating) on purpose: a call that takes this large value
    // as a non-mutating `self` copies all of it first.
    @inline(__always)
    private func isReliable(_ channel: Int) -> Bool { reliableChannels & (1 << UInt64(channel)) != 0 }

    @inline(__always)
    private func isChannel(_ channel: Int) -> Bool { channel >= 0 && channel < channelCount }

    /// The state of reliable channel `channel`, in place.
    @inline(__always)
    private func reliableChannel(_ channel: Int) -> UnsafeMutablePointer<ReliableChannel> { reliable + slots[channel] }

    /// The state of unreliable channel `channel`, in place.
    @inline(__always)
    private func unreliableChannel(_ channel: Int) -> UnsafeMutablePointer<UnreliableChannel> { unreliable + slots[channel] }

    // MARK: Budget

    /// Bytes the send queues hold now.
    @inline(__always)
    private var sendHeldBytes: Int {
        var total = 0
        for index in 0..<reliableCount { total += reliable[index].sendHeldBytes }
        for index in 0..<unreliableCount { total += unreliable[index].sendHeldBytes }
        return total
    }

    @inline(__always)
    var heldBytes: Int {
        var total = fixedBytes
        for index in 0..<reliableCount {
            let channel = reliable + index
            total += channel.pointee.sendHeldBytes + channel.pointee.receiveHeldBytes + channel.pointee.spareBytes
        }
        for index in 0..<unreliableCount {
            let channel = unreliable + index
            total += channel.pointee.sendHeldBytes + channel.pointee.receiveHeldBytes + channel.pointee.spareBytes
        }
        return total
    }

    @inline(__always)
    private var spareBytes: Int {
        var total = 0
        for index in 0..<reliableCount { total += reliable[index].spareBytes }
        for index in 0..<unreliableCount { total += unreliable[index].spareBytes }
        return total
    }

    /// Gives the buffers kept for reuse back, when the budget needs their bytes.
    private mutating func releaseSpares() {
        for index in 0..<reliableCount where reliable[index].spareBytes > 0 { reliable[index].releaseSpares() }
        for index in 0..<unreliableCount where unreliable[index].spareBytes > 0 { unreliable[index].releaseSpares() }
    }

    /// What a send may still take: the budget's rest, within the send share.
    @inline(__always)
    private var remainingSendBudget: Int { min(remainingBudget, sendShareBytes - sendHeldBytes) }

    /// Bytes this connection may still take: its own budget's rest, or the pool's if smaller.
    @inline(__always)
    private var remainingBudget: Int {
        let own = memoryBudgetBytes - heldBytes
        guard let pool else { return own }
        return min(own, pool.availableBytes)
    }

    /// Unreliable messages live one tick (sending) or until read: counted against the
    /// connection's own budget but never refused for the pool, so that a pool filled by others
    /// does not starve an honest client of its snapshots and inputs.
    @inline(__always)
    private var remainingOwnBudget: Int { memoryBudgetBytes - heldBytes }
    @inline(__always)
    private var remainingOwnSendBudget: Int { min(remainingOwnBudget, sendShareBytes - sendHeldBytes) }

    /// Called after every operation that can change what the connection holds: keeps the peak
    /// and the pool's count current (one sum over the channels).
    mutating func reportHeldBytes() {
        let held = heldBytes
        if held > peakHeldBytes { peakHeldBytes = held }
        if held != reportedBytes {
            pool?.adjust(by: held - reportedBytes)
            reportedBytes = held
        }
    }

    /// Faults the connection once its peer has kept it refusing packets, with nothing
    /// delivered, for longer than the grace period: an honest peer fills the gap delivery waits
    /// for within a resend or two; one that holds an id back never does.
    private mutating func checkPressure(now: Double) {
        for index in 0..<channelCount {
            let since = pressedSince[index]
            guard !since.isNaN else { continue }
            if isReliable(index), reliableChannel(index).pointee.receiveHeldBytes == 0 {
                pressedSince[index] = .nan  // nothing waits on it any more
            } else if now - since > overBudgetGraceSeconds {
                return fail(.overBudget)
            }
        }
    }

    @inline(__always)
    var resendDelay: Double {
        guard estimator.statistics.rttSamples > 0 else { return initialResendDelay }
        return min(maximumResendDelay, max(minimumResendDelay, estimator.statistics.rtt + 4 * estimator.statistics.jitter))
    }

    private mutating func fail(_ fault: ChannelFault) {
        if self.fault == nil { self.fault = fault }
    }

    // MARK: Application side

    mutating func send(_ bytes: [UInt8], on channel: Int) throws(ChannelSendError) -> MessageHandle? {
        guard fault == nil else { throw .connectionFaulted }
        guard isChannel(channel) else { throw .invalidChannel(channel) }
        defer { reportHeldBytes() }
        if isReliable(channel) {
            let state = reliableChannel(channel)
            var budget = remainingSendBudget
            if state.pointee.sendCost(bytes.count) > budget && spareBytes > 0 {
                releaseSpares()
                budget = remainingSendBudget
            }
            return MessageHandle(channel: channel, id: try state.pointee.send(bytes, budget: budget))
        }
        var budget = remainingOwnSendBudget
        if bytes.count + UnreliableChannel.messageOverheadBytes > budget && spareBytes > 0 {
            releaseSpares()
            budget = remainingOwnSendBudget
        }
        try unreliableChannel(channel).pointee.send(bytes, maxBytes: maxUnreliableMessageBytes, budget: budget)
        return nil
    }

    mutating func canSend(_ byteCount: Int, on channel: Int) -> Bool {
        guard fault == nil, isChannel(channel) else { return false }
        // Spare buffers would be given back for the send.
        let spare = spareBytes
        if isReliable(channel) {
            return reliableChannel(channel).pointee.canSend(byteCount, budget: min(remainingBudget + spare, sendShareBytes - sendHeldBytes))
        }
        return byteCount <= min(maxUnreliableMessageBytes, unreliableChannel(channel).pointee.maxMessageBytes)
            && byteCount + UnreliableChannel.messageOverheadBytes <= min(remainingOwnBudget + spare, sendShareBytes - sendHeldBytes)
    }

    /// `report: false` leaves the held bytes to ``recycle(_:on:)``, which follows.
    mutating func receive(on channel: Int, report: Bool = true) -> [UInt8]? {
        guard isChannel(channel) else { return nil }
        let message: [UInt8]
        if isReliable(channel) {
            guard let next = reliableChannel(channel).pointee.receive() else { return nil }
            pressedSince[channel] = .nan  // delivery on this channel progressed
            message = next
        } else {
            guard let next = unreliableChannel(channel).pointee.receive() else { return nil }
            message = next
        }
        if report { reportHeldBytes() }
        return message
    }

    /// Takes back the buffer of a message read in place.
    mutating func recycle(_ message: consuming [UInt8], on channel: Int) {
        if isReliable(channel) {
            reliableChannel(channel).pointee.recycle(consume message)
        } else {
            unreliableChannel(channel).pointee.recycle(consume message)
        }
        reportHeldBytes()
    }

    mutating func nextMessageSize(on channel: Int) -> Int? {
        guard isChannel(channel) else { return nil }
        return isReliable(channel) ? reliableChannel(channel).pointee.nextMessageSize : unreliableChannel(channel).pointee.nextMessageSize
    }

    mutating func progress(of handle: MessageHandle) -> SendProgress? {
        guard isChannel(handle.channel), isReliable(handle.channel) else { return nil }
        return reliableChannel(handle.channel).pointee.progress(of: handle.id)
    }

    mutating func unacknowledgedCount(on channel: Int) -> Int {
        guard isChannel(channel), isReliable(channel) else { return 0 }
        return reliableChannel(channel).pointee.queuedCount
    }

    // MARK: Receiving packets

    /// What the first pass over a packet's entries found.
    private enum Verdict {
        case fault(ChannelFault)
        case admitted(backPressure: Bool, overBudget: Bool, refusedChannels: UInt64)
    }

    /// Validates every entry and checks that all can be stored, without changing anything.
    private mutating func admitEntries(_ packet: UnsafeRawBufferPointer, from start: Int) -> Verdict {
        var reader = WireReader(packet, offset: start)
        var backPressure = false
        var overBudget = false
        let budget = remainingBudget
        var reassemblyBudget = maxReassemblyBytes
        for index in 0..<reliableCount { reassemblyBudget -= reliable[index].reassemblingBytes }
        var cost = 0
        var refusedChannels: UInt64 = 0
        while reader.remaining > 0 {
            guard let entry = ChannelWire.readEntry(&reader, channelCount: channelCount, idChannels: idChannels) else {
                return .fault(.malformedPacket)
            }
            if isReliable(entry.channel) {
                let channel = reliableChannel(entry.channel)
                // Only a head-of-line message may use the headroom.
                let allowance = budget - cost - (channel.pointee.isHead(entry.id) ? 0 : headroomBytes)
                switch channel.pointee.admit(entry, budget: allowance, reassemblyBudget: reassemblyBudget) {
                case .accept(let entryCost):
                    cost += entryCost
                    if entry.fragment != nil { reassemblyBudget -= entryCost }
                case .ignore: break
                case .backPressure:
                    backPressure = true
                    refusedChannels |= 1 << UInt64(entry.channel)
                case .overBudget:
                    overBudget = true
                    refusedChannels |= 1 << UInt64(entry.channel)
                case .fault(let fault): return .fault(fault)
                }
            } else if let fault = unreliableChannel(entry.channel).pointee.admit(entry, maxBytes: maxUnreliableMessageBytes) {
                return .fault(fault)
            }
        }
        return .admitted(backPressure: backPressure, overBudget: overBudget, refusedChannels: refusedChannels)
    }

    mutating func handlePacket(_ packet: UnsafeRawBufferPointer, now: Double) {
        guard fault == nil else { return }
        var reader = WireReader(packet)
        guard let header = ChannelWire.readHeader(&reader) else { return fail(.malformedPacket) }
        if hasReceived {
            if newestReceived.distance(from: header.sequence) >= receivedPacketHistory && newestReceived.isNewer(than: header.sequence) {
                estimator.statistics.stalePackets &+= 1
                return
            }
            if receivedPackets.contains(header.sequence) {
                estimator.statistics.duplicatePackets &+= 1
                return
            }
        }
        checkPressure(now: now)
        guard fault == nil else { return }
        defer { reportHeldBytes() }
        // First pass: validate every entry and make sure all can be stored, so that a packet is
        // either applied whole (and acked) or not at all. Buffers kept for reuse never cause a
        // refusal: they are given back and the pass is repeated.
        let entriesStart = reader.offset
        var verdict = admitEntries(packet, from: entriesStart)
        if case .admitted(_, true, _) = verdict, spareBytes > 0 {
            releaseSpares()
            verdict = admitEntries(packet, from: entriesStart)
        }
        let backPressure: Bool
        let overBudget: Bool
        let refusedChannels: UInt64
        switch verdict {
        case .fault(let fault): return fail(fault)
        case .admitted(let pressure, let over, let refused):
            backPressure = pressure
            overBudget = over
            refusedChannels = refused
        }
        if let ack = header.ack { processAcks(ack, now: now) }
        if backPressure || overBudget {
            releaseSpares()
            estimator.statistics.backPressuredPackets &+= 1
            if overBudget { estimator.statistics.overBudgetPackets &+= 1 }
            for index in 0..<channelCount where refusedChannels & (1 << UInt64(index)) != 0 && pressedSince[index].isNaN {
                pressedSince[index] = now
            }
            // The packet stays unacknowledged, so the sender resends all of it; but what delivery
            // waits for is taken now (a duplicate later is ignored), or a full window could never
            // drain. Unreliable entries of a refused packet are dropped.
            reader = WireReader(packet, offset: entriesStart)
            while reader.remaining > 0, let entry = ChannelWire.readEntry(&reader, channelCount: channelCount, idChannels: idChannels) {
                guard isReliable(entry.channel) else { continue }
                let channel = reliableChannel(entry.channel)
                guard channel.pointee.isHead(entry.id) else { continue }
                if case .accept = channel.pointee.admit(entry, budget: remainingBudget, reassemblyBudget: .max) {
                    channel.pointee.apply(entry, statistics: &estimator.statistics)
                }
            }
            checkPressure(now: now)
            return
        }
        reader = WireReader(packet, offset: entriesStart)
        while reader.remaining > 0, let entry = ChannelWire.readEntry(&reader, channelCount: channelCount, idChannels: idChannels) {
            if isReliable(entry.channel) {
                let channel = reliableChannel(entry.channel)
                if case .accept = channel.pointee.admit(entry, budget: .max, reassemblyBudget: .max) {
                    channel.pointee.apply(entry, statistics: &estimator.statistics)
                }
            } else {
                var budget = remainingOwnBudget
                if entry.payload.count + UnreliableChannel.messageOverheadBytes > budget && spareBytes > 0 {
                    releaseSpares()
                    budget = remainingOwnBudget
                }
                unreliableChannel(entry.channel).pointee.apply(entry, budget: budget, statistics: &estimator.statistics)
            }
        }
        receivedPackets.insert(header.sequence)
        if !hasReceived || header.sequence.isNewer(than: newestReceived) {
            // Forget what the window skipped over, so a sequence from a lap ago never looks received.
            if hasReceived {
                var cleared = newestReceived &+ 1
                var steps = 0
                while cleared != header.sequence && steps < receivedPacketHistory {
                    receivedPackets.remove(cleared)
                    cleared &+= 1
                    steps += 1
                }
            }
            newestReceived = header.sequence
            hasReceived = true
        }
        ackPending = true
        estimator.statistics.packetsReceived &+= 1
        estimator.recordReceived(bytes: packet.count)
    }

    private mutating func processAcks(_ ack: ChannelWire.Ack, now: Double) {
        // Only the newest acked packet gives an RTT sample: older ones reached the peer earlier
        // but their ack may have waited on a lost packet, which would inflate the estimate.
        acknowledge(ack.newest, now: now, sampleRTT: true)
        var bits = ack.bits
        var offset: UInt16 = 1
        while bits != 0 {
            if bits & 1 != 0 { acknowledge(ack.newest &- offset, now: now, sampleRTT: false) }
            bits >>= 1
            offset &+= 1
        }
    }

    private mutating func acknowledge(_ packetSequence: UInt16, now: Double, sampleRTT: Bool) {
        // Only packets we actually sent and not yet acked; a forged ack for a future sequence
        // finds nothing.
        guard sequence.isNewer(than: packetSequence), let packet = sentPackets.pointer(packetSequence), !packet.pointee.acked else { return }
        packet.pointee.acked = true
        estimator.statistics.packetsAcked &+= 1
        if sampleRTT { estimator.recordRTT(now - packet.pointee.time) }
        estimator.recordAcked(bytes: Int(packet.pointee.bytes))
        let start = packet.pointee.entryStart
        for offset in 0..<Int(packet.pointee.entryCount) {
            // The entries are still valid unless the ring has lapped them.
            guard let entry = log.entry(start: start, offset: offset) else { return }
            let channel = Int(entry.channel)
            guard isChannel(channel), isReliable(channel) else { continue }
            reliableChannel(channel).pointee.acknowledge(id: entry.id, fragment: entry.fragment == SentEntryLog.wholeMessage ? -1 : Int(entry.fragment))
        }
    }

    // MARK: Sending packets

    /// Starts a `generatePackets` call; nil if the connection has faulted.
    mutating func beginTick(now: Double) -> Tick? {
        checkPressure(now: now)
        guard fault == nil else { return nil }
        refillTokens(now: now)
        updateLoss(now: now)
        estimator.refreshBandwidth(now: now)
        return Tick(budget: budgetBytesPerTick, resendDelay: resendDelay)
    }

    /// Builds the tick's next packet into `buffer`; its length, or 0 when there is nothing
    /// (more) to send.
    mutating func nextPacket(_ tick: inout Tick, into buffer: UnsafeMutableRawBufferPointer, now: Double) -> Int {
        var limit = min(maxPacketBytes, tick.budget)
        if bandwidthBytesPerSecond != nil { limit = min(limit, max(0, Int(tokens))) }
        let length = buildPacket(
            &tick, into: buffer, limit: max(limit, ChannelWire.maxHeaderBytes), now: now, allowData: limit > ChannelWire.maxHeaderBytes)
        guard length > 0 else { return 0 }
        tick.budget -= length
        if bandwidthBytesPerSecond != nil { tokens -= Double(length) }
        return length
    }

    mutating func endTick(_ tick: Tick) {
        if tick.dataLeft {
            if bandwidthBytesPerSecond != nil && tokens < Double(maxPacketBytes) && tick.budget > 0 {
                estimator.statistics.bandwidthLimitedTicks &+= 1
            } else {
                estimator.statistics.budgetLimitedTicks &+= 1
            }
        }
        for index in 0..<unreliableCount { unreliable[index].dropUnsent(statistics: &estimator.statistics) }
        reportHeldBytes()
    }

    private mutating func buildPacket(_ tick: inout Tick, into packetBuffer: UnsafeMutableRawBufferPointer, limit: Int, now: Double, allowData: Bool) -> Int {
        let buffer = UnsafeMutableRawBufferPointer(rebasing: packetBuffer[0..<limit])
        var writer = WireWriter(buffer)
        let header = ChannelWire.Header(sequence: sequence, ack: hasReceived ? currentAck() : nil)
        ChannelWire.write(header, to: &writer)
        let headerEnd = writer.offset
        let entryStart = log.cursor
        log.packetCount = 0
        if lossCursor == sequence {
            log.liveStart = entryStart
        } else if let oldest = sentPackets.pointer(lossCursor) {
            log.liveStart = oldest.pointee.entryStart
        } else {
            // The oldest open packet's record is gone: treat everything the ring can hold as live.
            log.liveStart = entryStart &- UInt32(log.maxCapacity)
        }
        var dataLeft = false
        if allowData {
            for index in 0..<channelCount {
                let left: Bool
                if isReliable(index) {
                    left = reliableChannel(index).pointee.write(
                        to: &writer, limit: limit, now: now, resendDelay: tick.resendDelay, statistics: &estimator.statistics, log: &log)
                } else {
                    left = unreliableChannel(index).pointee.write(to: &writer, limit: limit, statistics: &estimator.statistics)
                }
                dataLeft = dataLeft || left
            }
        } else {
            for index in 0..<channelCount {
                if isReliable(index) ? reliableChannel(index).pointee.queuedCount > 0 : unreliableChannel(index).pointee.hasQueued { dataLeft = true }
            }
        }
        tick.dataLeft = dataLeft
        let carriedData = writer.offset > headerEnd
        tick.carriedData = carriedData
        guard carriedData || ackPending else { return 0 }
        sentPackets.insert(
            sequence,
            SentPacket(time: now, entryStart: entryStart, bytes: UInt16(writer.offset), entryCount: UInt16(log.packetCount), acked: false))
        sequence &+= 1
        ackPending = false
        estimator.statistics.packetsSent &+= 1
        estimator.recordSent(bytes: writer.offset)
        return writer.offset
    }

    private mutating func currentAck() -> ChannelWire.Ack {
        var bits: UInt32 = 0
        for offset in 0..<32 where receivedPackets.contains(newestReceived &- UInt16(offset + 1)) {
            bits |= 1 << UInt32(offset)
        }
        return ChannelWire.Ack(newest: newestReceived, bits: bits)
    }

    private mutating func refillTokens(now: Double) {
        guard let rate = bandwidthBytesPerSecond else { return }
        let capacity = max(Double(maxPacketBytes), Double(rate) / 10)
        if let last = lastRefill { tokens = min(capacity, tokens + Double(rate) * max(0, now - last)) } else { tokens = capacity }
        lastRefill = now
    }

    /// Counts a packet as lost once it has gone unacknowledged for well over an RTT.
    private mutating func updateLoss(now: Double) {
        let patience = max(0.25, 2 * estimator.statistics.rtt + 4 * estimator.statistics.jitter)
        while lossCursor != sequence {
            guard let packet = sentPackets.pointer(lossCursor) else {
                lossCursor &+= 1
                continue
            }
            guard packet.pointee.acked || now - packet.pointee.time > patience else { break }
            estimator.recordLossSample(lost: !packet.pointee.acked)
            lossCursor &+= 1
        }
    }
}
