/// One end of a message connection over an unreliable datagram link (the netcode transport's
/// payloads, or the link simulator): packet acknowledgements, the four channel kinds, large
/// messages, statistics, a per-tick byte budget and a bandwidth limit. Sans-IO.
///
/// Each tick: feed every received payload to ``handlePacket(_:now:)``, read messages with
/// ``receive(on:)``, queue new ones with ``send(_:on:)``, then call
/// ``generatePackets(now:_:)`` once and send what it emits. If ``fault`` becomes non-nil the
/// peer broke the protocol: disconnect it.
public final class ChannelConnection {
    public let configuration: ConnectionConfiguration
    public private(set) var fault: ChannelFault?
    /// The budget shared with the other connections of this thread, if any.
    public let pool: ChannelMemoryPool?

    struct SentPacket {
        var time: Double = 0
        var bytes = 0
        var acked = false
        var entryStart = 0
        var entryCount = 0
    }

    struct SentEntry {
        var channel: UInt8 = 0
        var id: UInt16 = 0
        /// -1 for a whole message.
        var fragment: Int32 = -1
    }

    private var sequence: UInt16 = 0
    private var sentPackets: SequenceBuffer<SentPacket>
    /// What each sent packet carried, in a ring shared by all packets. If the ring laps a packet
    /// that was never acked, that packet's messages are simply resent on their timers.
    private var sentEntries: [SentEntry]
    private var sentEntryCursor = 0
    private var lossCursor: UInt16 = 0
    private var receivedPackets: SequenceBuffer<Bool>
    private var newestReceived: UInt16 = 0
    private var hasReceived = false
    private var ackPending = false
    private var reliable: [ReliableChannel?]
    private var unreliable: [UnreliableChannel?]
    private var estimator = StatisticsEstimator()
    private var tokens: Double
    private var lastRefill: Double?
    private let packetBuffer: UnsafeMutableRawBufferPointer
    private let fixedBytes: Int
    /// The most the send queues may hold together: half of what the budget leaves beyond the
    /// fixed part and the headroom. Receiving always keeps the other half, so two ends that
    /// both send as fast as they can never fill each other's budget with their own queues and
    /// stop acknowledging each other.
    private let sendShareBytes: Int
    /// Kept free for head-of-line messages (see ``ReliableChannel/isHead(_:)``): the largest
    /// reliable message's charge.
    private let headroomBytes: Int
    /// What this connection last told the pool it holds.
    private var reportedBytes = 0
    /// Per reliable channel: since when entries on it have been refused (window or budget) with
    /// no message delivered on it since. A peer that keeps any channel so past the grace period
    /// is faulted; delivery on another channel does not excuse it.
    private var pressedSince: [Double?]

    /// - Parameter pool: a budget shared with other connections; the connection counts what it
    ///   holds in it for as long as it lives.
    public init(configuration: ConnectionConfiguration = ConnectionConfiguration(), pool: ChannelMemoryPool? = nil) throws(ConnectionConfiguration.Invalid) {
        try configuration.validate()
        self.configuration = configuration
        self.pool = pool
        fixedBytes = Self.fixedBytes(of: configuration)
        pressedSince = [Double?](repeating: nil, count: configuration.channels.count)
        headroomBytes = Self.headroomBytes(of: configuration)
        sendShareBytes = Self.sendShareBytes(of: configuration)
        sentPackets = SequenceBuffer(capacity: configuration.sentPacketHistory, blank: SentPacket())
        // Room for what the remembered packets can carry on average; older entries are lapped.
        sentEntries = [SentEntry](repeating: SentEntry(), count: configuration.sentPacketHistory * 8)
        receivedPackets = SequenceBuffer(capacity: configuration.receivedPacketHistory, blank: false)
        reliable = configuration.channels.enumerated().map { index, channel in
            channel.kind.isReliable ? ReliableChannel(index: index, configuration: channel, fragmentBytes: configuration.fragmentBytes) : nil
        }
        unreliable = configuration.channels.enumerated().map { index, channel in
            channel.kind.isReliable ? nil : UnreliableChannel(index: index, configuration: channel)
        }
        tokens = Double(configuration.bandwidthBytesPerSecond ?? 0)
        packetBuffer = .allocate(byteCount: configuration.maxPacketBytes, alignment: 16)
        reportHeldBytes()
    }

    deinit {
        pool?.adjust(by: -reportedBytes)
        packetBuffer.deallocate()
    }

    /// Memory a connection with `configuration` takes before anything is sent or received:
    /// packet history, the channels' windows, the packet buffer.
    public static func fixedBytes(of configuration: ConnectionConfiguration) -> Int {
        let history = configuration.sentPacketHistory * (MemoryLayout<SentPacket>.stride + 4 + 8 * MemoryLayout<SentEntry>.stride)
            + configuration.receivedPacketHistory * (MemoryLayout<Bool>.stride + 4)
        let channels = configuration.channels.reduce(0) { sum, channel in
            sum + (channel.kind.isReliable ? ReliableChannel.fixedBytes(channel) : UnreliableChannel.fixedBytes(channel))
        }
        return MemoryLayout<ChannelConnection>.size + history + channels + configuration.maxPacketBytes
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

    /// Bytes the send queues hold now.
    private var sendHeldBytes: Int {
        var total = 0
        for channel in reliable { if let channel { total += channel.sendHeldBytes } }
        for channel in unreliable { if let channel { total += channel.sendHeldBytes } }
        return total
    }

    /// What a send may still take: the budget's rest, within the send share.
    private var remainingSendBudget: Int { min(remainingBudget, sendShareBytes - sendHeldBytes) }

    /// Everything the connection holds now, in bytes, counted against
    /// ``ConnectionConfiguration/memoryBudgetBytes``: the fixed part, send queues until
    /// acknowledged, received messages until taken, unfinished reassemblies.
    public var heldBytes: Int {
        var total = fixedBytes
        for channel in reliable { if let channel { total += channel.sendHeldBytes + channel.receiveHeldBytes } }
        for channel in unreliable { if let channel { total += channel.sendHeldBytes + channel.receiveHeldBytes } }
        return total
    }

    /// Bytes this connection may still take: its own budget's rest, or the pool's if smaller.
    private var remainingBudget: Int {
        let own = configuration.memoryBudgetBytes - heldBytes
        guard let pool else { return own }
        return min(own, pool.availableBytes)
    }

    /// Unreliable messages live one tick (sending) or until read: counted against the
    /// connection's own budget but never refused for the pool, so that a pool filled by others
    /// does not starve an honest client of its snapshots and inputs.
    private var remainingOwnBudget: Int { configuration.memoryBudgetBytes - heldBytes }
    private var remainingOwnSendBudget: Int { min(remainingOwnBudget, sendShareBytes - sendHeldBytes) }

    /// The most this connection has held, as of its last operation.
    public private(set) var peakHeldBytes = 0

    /// Called after every operation that can change what the connection holds: keeps the peak
    /// and the pool's count current (one sum over the channels).
    private func reportHeldBytes() {
        let held = heldBytes
        if held > peakHeldBytes { peakHeldBytes = held }
        pool?.adjust(by: held - reportedBytes)
        reportedBytes = held
    }

    /// Faults the connection once its peer has kept it refusing packets, with nothing
    /// delivered, for longer than the grace period: an honest peer fills the gap delivery waits
    /// for within a resend or two; one that holds an id back never does.
    private func checkPressure(now: Double) {
        for index in pressedSince.indices {
            guard let since = pressedSince[index] else { continue }
            if let channel = reliable[index], channel.receiveHeldBytes == 0 {
                pressedSince[index] = nil  // nothing waits on it any more
            } else if now - since > configuration.overBudgetGraceSeconds {
                return fail(.overBudget)
            }
        }
    }

    /// The latest measurements.
    public var statistics: ConnectionStatistics { estimator.statistics }

    /// The delay before an unacknowledged message is sent again: the smoothed RTT plus four
    /// deviations, within the configured floor and ceiling.
    public var resendDelay: Double {
        let stats = estimator.statistics
        guard stats.rttSamples > 0 else { return configuration.initialResendDelay }
        return min(configuration.maximumResendDelay, max(configuration.minimumResendDelay, stats.rtt + 4 * stats.jitter))
    }

    // MARK: - Application side

    /// Queues a message. Reliable channels return a handle for ``progress(of:)``.
    @discardableResult
    public func send(_ bytes: [UInt8], on channel: Int) throws(ChannelSendError) -> MessageHandle? {
        guard fault == nil else { throw .connectionFaulted }
        guard configuration.channels.indices.contains(channel) else { throw .invalidChannel(channel) }
        defer { reportHeldBytes() }
        if let reliableChannel = reliable[channel] {
            return MessageHandle(channel: channel, id: try reliableChannel.send(bytes, budget: remainingSendBudget))
        }
        try unreliable[channel]?.send(bytes, maxBytes: configuration.maxUnreliableMessageBytes, budget: remainingOwnSendBudget)
        return nil
    }

    /// Whether a message of `byteCount` bytes could be queued on `channel` now (size, queue and
    /// budget), so that a caller can leave work undone (back-pressure) rather than fail it.
    public func canSend(_ byteCount: Int, on channel: Int) -> Bool {
        guard fault == nil, configuration.channels.indices.contains(channel) else { return false }
        if let reliableChannel = reliable[channel] { return reliableChannel.canSend(byteCount, budget: remainingSendBudget) }
        return byteCount <= min(configuration.maxUnreliableMessageBytes, configuration.channels[channel].maxMessageBytes)
            && byteCount + UnreliableChannel.messageOverheadBytes <= remainingOwnSendBudget
    }

    /// The next message received on `channel`, if any.
    public func receive(on channel: Int) -> [UInt8]? {
        guard configuration.channels.indices.contains(channel) else { return nil }
        if let message = reliable[channel]?.receive() {
            pressedSince[channel] = nil  // delivery on this channel progressed
            reportHeldBytes()
            return message
        }
        guard let message = unreliable[channel]?.receive() else { return nil }
        reportHeldBytes()
        return message
    }

    /// Reads the next message received on `channel` in place: `body` gets it for the length of
    /// the call (keep a copy to hold on to it). On an unreliable channel the buffer is then reused
    /// for a later message, so a steady stream costs no allocation per message.
    public func withNextMessage<R>(on channel: Int, _ body: ([UInt8]) -> R) -> R? {
        guard configuration.channels.indices.contains(channel) else { return nil }
        if reliable[channel] != nil { return receive(on: channel).map(body) }
        guard let result = unreliable[channel]?.withNextMessage(body) else { return nil }
        reportHeldBytes()
        return result
    }

    /// The size of the message ``receive(on:)`` would return next, without taking it.
    public func nextMessageSize(on channel: Int) -> Int? {
        guard configuration.channels.indices.contains(channel) else { return nil }
        return reliable[channel]?.nextMessageSize ?? unreliable[channel]?.nextMessageSize
    }

    /// Acknowledged bytes of a reliable message, for progress bars on large messages.
    public func progress(of handle: MessageHandle) -> SendProgress? {
        guard reliable.indices.contains(handle.channel) else { return nil }
        return reliable[handle.channel]?.progress(of: handle.id)
    }

    /// Reliable messages waiting for acknowledgement on `channel`.
    public func unacknowledgedCount(on channel: Int) -> Int {
        guard reliable.indices.contains(channel) else { return 0 }
        return reliable[channel]?.queuedCount ?? 0
    }

    // MARK: - Link side

    /// Processes one packet from the peer. Malformed or hostile content sets ``fault``.
    public func handlePacket(_ packet: UnsafeRawBufferPointer, now: Double) {
        guard fault == nil else { return }
        var reader = WireReader(packet)
        guard let header = ChannelWire.readHeader(&reader) else { return fail(.malformedPacket) }
        if hasReceived {
            if newestReceived.distance(from: header.sequence) >= configuration.receivedPacketHistory
                && newestReceived.isNewer(than: header.sequence)
            {
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
        // either applied whole (and acked) or not at all.
        let entriesStart = reader.offset
        var backPressure = false
        var overBudget = false
        let budget = remainingBudget
        var reassemblyBudget = configuration.maxReassemblyBytes - reliable.reduce(0) { $0 + ($1?.reassemblingBytes ?? 0) }
        var cost = 0
        var refusedChannels: UInt64 = 0
        while reader.remaining > 0 {
            guard let entry = ChannelWire.readEntry(&reader, hasID: carriesID) else { return fail(.malformedPacket) }
            if let channel = reliable[entry.channel] {
                // Only a head-of-line message may use the headroom.
                let allowance = budget - cost - (channel.isHead(entry.id) ? 0 : headroomBytes)
                switch channel.admit(entry, budget: allowance, reassemblyBudget: reassemblyBudget) {
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
                case .fault(let fault): return fail(fault)
                }
            } else if let channel = unreliable[entry.channel] {
                if let fault = channel.admit(entry, maxBytes: configuration.maxUnreliableMessageBytes) { return fail(fault) }
            }
        }
        if let ack = header.ack { processAcks(ack, now: now) }
        if backPressure || overBudget {
            estimator.statistics.backPressuredPackets &+= 1
            if overBudget { estimator.statistics.overBudgetPackets &+= 1 }
            for index in pressedSince.indices where refusedChannels & (1 << UInt64(index)) != 0 && pressedSince[index] == nil {
                pressedSince[index] = now
            }
            // The packet stays unacknowledged, so the sender resends all of it; but what delivery
            // waits for is taken now (a duplicate later is ignored), or a full window could never
            // drain. Unreliable entries of a refused packet are dropped.
            reader = WireReader(packet, offset: entriesStart)
            while reader.remaining > 0, let entry = ChannelWire.readEntry(&reader, hasID: carriesID) {
                guard let channel = reliable[entry.channel], channel.isHead(entry.id) else { continue }
                if case .accept = channel.admit(entry, budget: remainingBudget, reassemblyBudget: .max) {
                    channel.apply(entry, statistics: &estimator.statistics)
                }
            }
            checkPressure(now: now)
            return
        }
        reader = WireReader(packet, offset: entriesStart)
        while reader.remaining > 0, let entry = ChannelWire.readEntry(&reader, hasID: carriesID) {
            if let channel = reliable[entry.channel] {
                if case .accept = channel.admit(entry, budget: .max, reassemblyBudget: .max) {
                    channel.apply(entry, statistics: &estimator.statistics)
                }
            } else if let channel = unreliable[entry.channel] {
                channel.apply(entry, budget: remainingOwnBudget, statistics: &estimator.statistics)
            }
        }
        receivedPackets.insert(header.sequence, true)
        if !hasReceived || header.sequence.isNewer(than: newestReceived) {
            // Forget what the window skipped over, so a sequence from a lap ago never looks received.
            if hasReceived {
                var cleared = newestReceived &+ 1
                var steps = 0
                while cleared != header.sequence && steps < configuration.receivedPacketHistory {
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

    public func handlePacket(_ packet: [UInt8], now: Double) {
        packet.withUnsafeBytes { handlePacket($0, now: now) }
    }

    private func carriesID(_ channel: Int) -> Bool? {
        guard configuration.channels.indices.contains(channel) else { return nil }
        return configuration.channels[channel].kind != .unreliableUnordered
    }

    private func fail(_ fault: ChannelFault) {
        if self.fault == nil { self.fault = fault }
    }

    private func processAcks(_ ack: ChannelWire.Ack, now: Double) {
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

    private func acknowledge(_ packetSequence: UInt16, now: Double, sampleRTT: Bool) {
        // Only packets we actually sent and not yet acked; a forged ack for a future sequence
        // finds nothing.
        guard sequence.isNewer(than: packetSequence), let packet = sentPackets[packetSequence], !packet.acked else { return }
        sentPackets.modify(packetSequence) { $0.acked = true }
        estimator.statistics.packetsAcked &+= 1
        if sampleRTT { estimator.recordRTT(now - packet.time) }
        estimator.recordAcked(bytes: packet.bytes)
        // The entries are still valid unless the ring has lapped them.
        guard sentEntryCursor - packet.entryStart <= sentEntries.count else { return }
        for offset in 0..<packet.entryCount {
            let entry = sentEntries[(packet.entryStart + offset) % sentEntries.count]
            reliable[Int(entry.channel)]?.acknowledge(id: entry.id, fragment: Int(entry.fragment))
        }
    }

    /// Builds this tick's packets: as many as the per-tick budget and the bandwidth limit allow,
    /// channels filled in priority order; an ack-only packet when only acks are owed. Each packet
    /// is valid only during the `emit` call.
    public func generatePackets(now: Double, _ emit: (UnsafeRawBufferPointer) -> Void) {
        checkPressure(now: now)
        guard fault == nil else { return }
        defer { reportHeldBytes() }
        refillTokens(now: now)
        updateLoss(now: now)
        estimator.refreshBandwidth(now: now)
        var budget = configuration.budgetBytesPerTick
        let resendDelay = self.resendDelay
        var dataLeft = false
        for _ in 0..<64 {
            var limit = min(configuration.maxPacketBytes, budget)
            if configuration.bandwidthBytesPerSecond != nil { limit = min(limit, max(0, Int(tokens))) }
            let result = buildPacket(limit: max(limit, ChannelWire.maxHeaderBytes), now: now, resendDelay: resendDelay, allowData: limit > ChannelWire.maxHeaderBytes)
            dataLeft = result.dataLeft
            guard result.length > 0 else { break }
            emit(UnsafeRawBufferPointer(rebasing: packetBuffer[0..<result.length]))
            budget -= result.length
            if configuration.bandwidthBytesPerSecond != nil { tokens -= Double(result.length) }
            if !result.carriedData || !dataLeft { break }
        }
        if dataLeft {
            if configuration.bandwidthBytesPerSecond != nil && tokens < Double(configuration.maxPacketBytes) && budget > 0 {
                estimator.statistics.bandwidthLimitedTicks &+= 1
            } else {
                estimator.statistics.budgetLimitedTicks &+= 1
            }
        }
        for channel in unreliable { channel?.dropUnsent(statistics: &estimator.statistics) }
    }

    private func buildPacket(limit: Int, now: Double, resendDelay: Double, allowData: Bool) -> (length: Int, carriedData: Bool, dataLeft: Bool) {
        let buffer = UnsafeMutableRawBufferPointer(rebasing: packetBuffer[0..<limit])
        var writer = WireWriter(buffer)
        let header = ChannelWire.Header(sequence: sequence, ack: hasReceived ? currentAck() : nil)
        ChannelWire.write(header, to: &writer)
        let headerEnd = writer.offset
        let entryStart = sentEntryCursor
        var entryCount = 0
        var dataLeft = false
        if allowData {
            for index in configuration.channels.indices {
                if let channel = reliable[index] {
                    let left = channel.write(
                        to: &writer, limit: limit, now: now, resendDelay: resendDelay, statistics: &estimator.statistics
                    ) { id, fragment in
                        guard entryCount < 1024 else { return false }
                        sentEntries[sentEntryCursor % sentEntries.count] = SentEntry(channel: UInt8(index), id: id, fragment: Int32(fragment))
                        sentEntryCursor += 1
                        entryCount += 1
                        return true
                    }
                    dataLeft = dataLeft || left
                } else if let channel = unreliable[index] {
                    let left = channel.write(to: &writer, limit: limit, statistics: &estimator.statistics)
                    dataLeft = dataLeft || left
                }
            }
        } else {
            dataLeft = reliable.contains { $0?.queuedCount ?? 0 > 0 } || unreliable.contains { $0?.hasQueued ?? false }
        }
        let carriedData = writer.offset > headerEnd
        guard carriedData || ackPending else { return (0, false, dataLeft) }
        sentPackets.insert(sequence, SentPacket(time: now, bytes: writer.offset, acked: false, entryStart: entryStart, entryCount: entryCount))
        sequence &+= 1
        ackPending = false
        estimator.statistics.packetsSent &+= 1
        estimator.recordSent(bytes: writer.offset)
        return (writer.offset, carriedData, dataLeft)
    }

    private func currentAck() -> ChannelWire.Ack {
        var bits: UInt32 = 0
        for offset in 0..<32 where receivedPackets.contains(newestReceived &- UInt16(offset + 1)) {
            bits |= 1 << UInt32(offset)
        }
        return ChannelWire.Ack(newest: newestReceived, bits: bits)
    }

    private func refillTokens(now: Double) {
        guard let rate = configuration.bandwidthBytesPerSecond else { return }
        let capacity = max(Double(configuration.maxPacketBytes), Double(rate) / 10)
        if let last = lastRefill { tokens = min(capacity, tokens + Double(rate) * max(0, now - last)) } else { tokens = capacity }
        lastRefill = now
    }

    /// Counts a packet as lost once it has gone unacknowledged for well over an RTT.
    private func updateLoss(now: Double) {
        let stats = estimator.statistics
        let patience = max(0.25, 2 * stats.rtt + 4 * stats.jitter)
        while lossCursor != sequence {
            guard let packet = sentPackets[lossCursor] else {
                lossCursor &+= 1
                continue
            }
            guard packet.acked || now - packet.time > patience else { break }
            estimator.recordLossSample(lost: !packet.acked)
            lossCursor &+= 1
        }
    }
}
