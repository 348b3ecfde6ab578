/// A seeded soak of the whole message stack in virtual time: a netcode client and server
/// connected through the ``LinkSimulator``, a ``ChannelConnection`` on each end, and messages on
/// every channel kind in both directions, each checked on arrival.
///
/// Violations counted: reliable messages lost (never delivered intact), duplicated, or out of
/// order on the ordered channel; unreliable-sequenced messages delivered after a newer one.
public struct ChannelSoak {
    public struct Options: Sendable {
        public var seed: UInt64
        /// Messages per channel kind, per direction.
        public var messages: Int
        public var conditions: LinkConditions
        /// Every Nth reliable message is large (1 KiB to 64 KiB); 0 for none.
        public var largeEvery: Int
        public var connection: ConnectionConfiguration
        /// Virtual seconds allowed, after the last message is queued, for the rest to arrive.
        public var drainSeconds: Double

        public init(
            seed: UInt64, messages: Int = 10_000, conditions: LinkConditions = LinkConditions(), largeEvery: Int = 100,
            connection: ConnectionConfiguration = ConnectionConfiguration(), drainSeconds: Double = 120
        ) {
            self.seed = seed
            self.messages = messages
            self.conditions = conditions
            self.largeEvery = largeEvery
            self.connection = connection
            self.drainSeconds = drainSeconds
        }
    }

    public struct Result: Sendable, Equatable {
        public var seed: UInt64 = 0
        public var sent = 0
        public var delivered = 0
        public var lost = 0
        public var duplicated = 0
        public var outOfOrder = 0
        public var stale = 0
        public var corrupted = 0
        public var largeMessages = 0
        public var virtualSeconds = 0.0
        /// Messages that arrived damaged, or unreliable-unordered ones delivered twice.
        /// (`corrupted` above.)
        /// Why the run ended early, if it did (no connection, a channel fault, a disconnect).
        public var failure: String?
        public var clientStatistics = ConnectionStatistics()

        public var passed: Bool { failure == nil && lost == 0 && duplicated == 0 && outOfOrder == 0 && stale == 0 && corrupted == 0 }

        /// The line `arbiter soak` ends with.
        public var summaryLine: String {
            "soak: seed=\(seed) sent=\(sent) delivered=\(delivered) lost=\(lost) duplicated=\(duplicated) out_of_order=\(outOfOrder) stale=\(stale)"
        }
    }

    public let options: Options

    public init(options: Options) { self.options = options }

    /// The body of message `index` on `channel`: header (channel, index, length) and bytes
    /// derived from them, so the receiver can check every byte.
    static func body(channel: Int, index: Int, size: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(9, size))
        bytes[0] = UInt8(channel)
        for shift in 0..<4 { bytes[1 + shift] = UInt8(truncatingIfNeeded: index >> (8 * shift)) }
        for shift in 0..<4 { bytes[5 + shift] = UInt8(truncatingIfNeeded: bytes.count >> (8 * shift)) }
        for position in 9..<bytes.count { bytes[position] = UInt8(truncatingIfNeeded: index &* 31 &+ position &* 7 &+ channel) }
        return bytes
    }

    static func parse(_ bytes: [UInt8]) -> (channel: Int, index: Int)? {
        guard bytes.count >= 9 else { return nil }
        let channel = Int(bytes[0])
        var index = 0
        var length = 0
        for shift in 0..<4 { index |= Int(bytes[1 + shift]) << (8 * shift) }
        for shift in 0..<4 { length |= Int(bytes[5 + shift]) << (8 * shift) }
        guard length == bytes.count, bytes == body(channel: channel, index: index, size: length) else { return nil }
        return (channel, index)
    }

    /// What one direction has sent and the other has seen.
    final class Tally {
        let kinds: [ChannelKind]
        var nextToSend: [Int]
        var received: [[Bool]]
        var nextOrdered: [Int]
        var newestSequenced: [Int]

        init(kinds: [ChannelKind], messages: Int) {
            self.kinds = kinds
            nextToSend = [Int](repeating: 0, count: kinds.count)
            received = [[Bool]](repeating: [Bool](repeating: false, count: messages), count: kinds.count)
            nextOrdered = [Int](repeating: 0, count: kinds.count)
            newestSequenced = [Int](repeating: -1, count: kinds.count)
        }
    }

    public func run() -> Result {
        var result = Result()
        result.seed = options.seed
        var random = SeededRandomSource(seed: options.seed)
        let network = VirtualNetwork(conditions: options.conditions, seed: options.seed &+ 0x5EED, tick: 1.0 / 60)
        let link = network.link
        let serverAddress = NetAddress(ipv4: 127, 0, 0, 1, port: 40000)
        let clientAddress = NetAddress(ipv4: 127, 0, 0, 2, port: 50000)
        let privateKey = SymmetricKey(random: &random)
        let epoch: UInt64 = 1_700_000_000
        var time: Double { network.time }
        func now() -> NetInstant { .virtual(time, unixEpoch: epoch) }

        guard let server = try? ServerEndpoint(
            configuration: ServerConfiguration(protocolID: 0x50A4, privateKey: privateKey, serverAddresses: [serverAddress], maxClients: 4),
            random: &random, now: now()),
            let token = try? ConnectToken.generate(
                publicAddresses: [serverAddress], expireSeconds: 3600, timeoutSeconds: 60, clientID: 1, protocolID: 0x50A4,
                privateKey: privateKey, nowUnix: epoch, random: &random),
            let clientChannels = try? ChannelConnection(configuration: options.connection),
            let serverChannels = try? ChannelConnection(configuration: options.connection)
        else {
            result.failure = "invalid configuration"
            return result
        }
        let client = ClientEndpoint()
        var clientSink = RecordingSink()
        var serverSink = RecordingSink()
        let kinds = options.connection.channels.map(\.kind)
        let upstream = Tally(kinds: kinds, messages: options.messages)
        let downstream = Tally(kinds: kinds, messages: options.messages)

        func flush() {
            for transmission in clientSink.transmissions { network.send(transmission.bytes, from: clientAddress, to: transmission.to) }
            for transmission in serverSink.transmissions { network.send(transmission.bytes, from: serverAddress, to: transmission.to) }
            clientSink.transmissions.removeAll(keepingCapacity: true)
            serverSink.transmissions.removeAll(keepingCapacity: true)
        }

        client.connect(token: token, now: now(), sink: &clientSink)
        flush()
        var lastQueued = 0.0
        var connectedSince: Double?

        while true {
            for datagram in link.receive(now: time) {
                if datagram.to == serverAddress {
                    server.handle(datagram.bytes, from: datagram.from, now: now(), sink: &serverSink)
                } else {
                    client.handle(datagram.bytes, from: datagram.from, now: now(), sink: &clientSink)
                }
            }
            for event in serverSink.events {
                if case .serverPayload(_, let bytes) = event { serverChannels.handlePacket(bytes, now: time) }
                if case .disconnected(_, _, let reason) = event { result.failure = "server saw the client disconnect: \(reason)" }
            }
            for event in clientSink.events {
                if case .clientPayload(let bytes) = event { clientChannels.handlePacket(bytes, now: time) }
            }
            serverSink.events.removeAll(keepingCapacity: true)
            clientSink.events.removeAll(keepingCapacity: true)
            if let fault = clientChannels.fault ?? serverChannels.fault { result.failure = "channel fault: \(fault)" }
            if client.state.rawValue < 0 { result.failure = "client state \(client.state)" }
            if result.failure != nil { break }

            if client.state == .connected {
                if connectedSince == nil { connectedSince = time }
                check(serverChannels, tally: upstream, result: &result)
                check(clientChannels, tally: downstream, result: &result)
                if queue(on: clientChannels, tally: upstream, result: &result) { lastQueued = time }
                if queue(on: serverChannels, tally: downstream, result: &result) { lastQueued = time }
                clientChannels.generatePackets(now: time) { packet in
                    client.send(packet, now: now(), sink: &clientSink)
                }
                if let clientIndex = server.connectedClientIndices.first {
                    serverChannels.generatePackets(now: time) { packet in
                        server.send(packet, to: clientIndex, now: now(), sink: &serverSink)
                    }
                }
                let allQueued = upstream.nextToSend.allSatisfy { $0 == options.messages }
                    && downstream.nextToSend.allSatisfy { $0 == options.messages }
                if allQueued && complete(upstream) && complete(downstream) { break }
                if allQueued && time - lastQueued > options.drainSeconds { break }
            } else if time > 300 {
                result.failure = "never connected"
                break
            }
            client.update(now: now(), sink: &clientSink)
            server.update(now: now(), sink: &serverSink)
            flush()
            network.advance()
        }
        result.virtualSeconds = time
        result.clientStatistics = clientChannels.statistics
        for tally in [upstream, downstream] {
            for (channel, kind) in kinds.enumerated() where kind.isReliable {
                result.lost += tally.received[channel].prefix(tally.nextToSend[channel]).filter { !$0 }.count
            }
        }
        return result
    }

    private func complete(_ tally: Tally) -> Bool {
        for (channel, kind) in tally.kinds.enumerated() where kind.isReliable {
            if tally.received[channel].contains(false) { return false }
        }
        return true
    }

    /// Tops up every channel: reliable ones while their queue is under half full, unreliable
    /// ones a few per tick. Returns whether anything was queued.
    private func queue(on connection: ChannelConnection, tally: Tally, result: inout Result) -> Bool {
        var queuedAny = false
        for (channel, kind) in tally.kinds.enumerated() {
            let configuration = options.connection.channels[channel]
            var budget = kind.isReliable ? 64 : 8
            while budget > 0 && tally.nextToSend[channel] < options.messages {
                if kind.isReliable && connection.unacknowledgedCount(on: channel) >= configuration.sendQueueSize / 2 { break }
                let index = tally.nextToSend[channel]
                var size = 9 + (index &* 2_654_435_761 >> 7) % 120
                if kind.isReliable && options.largeEvery > 0 && index % options.largeEvery == options.largeEvery - 1 {
                    size = min(configuration.maxMessageBytes, 1024 + (index &* 40_503) % (63 * 1024))
                    result.largeMessages += 1
                }
                do {
                    try connection.send(Self.body(channel: channel, index: index, size: size), on: channel)
                } catch {
                    break
                }
                tally.nextToSend[channel] += 1
                result.sent += 1
                budget -= 1
                queuedAny = true
            }
        }
        return queuedAny
    }

    private func check(_ connection: ChannelConnection, tally: Tally, result: inout Result) {
        for (channel, kind) in tally.kinds.enumerated() {
            while let message = connection.receive(on: channel) {
                guard let parsed = Self.parse(message), parsed.channel == channel, parsed.index < options.messages else {
                    result.corrupted += 1
                    continue
                }
                let index = parsed.index
                if tally.received[channel][index] {
                    switch kind {
                    case .reliableOrdered, .reliableUnordered: result.duplicated += 1
                    case .unreliableSequenced: result.stale += 1
                    case .unreliableUnordered: result.corrupted += 1  // at most once was broken
                    }
                    continue
                }
                tally.received[channel][index] = true
                result.delivered += 1
                switch kind {
                case .reliableOrdered:
                    if index != tally.nextOrdered[channel] { result.outOfOrder += 1 }
                    tally.nextOrdered[channel] = index + 1
                case .unreliableSequenced:
                    if index <= tally.newestSequenced[channel] { result.stale += 1 }
                    tally.newestSequenced[channel] = max(tally.newestSequenced[channel], index)
                default:
                    break
                }
            }
        }
    }
}
