/// Network conditions for ``LinkSimulator``. Times are in seconds, rates in [0, 1].
public struct LinkConditions: Sendable, Equatable {
    /// One-way delay added to every datagram.
    public var latency: Double
    /// Each datagram's delay varies uniformly within ±jitter around `latency` (never below 0).
    public var jitter: Double
    /// Chance a datagram is lost.
    public var loss: Double
    /// Chance a datagram is delivered twice (the copy gets its own delay).
    public var duplicate: Double
    /// Chance a datagram is held back by an extra `latency + jitter`, so later ones overtake it.
    public var reorder: Double

    public init(latency: Double = 0, jitter: Double = 0, loss: Double = 0, duplicate: Double = 0, reorder: Double = 0) {
        self.latency = latency
        self.jitter = jitter
        self.loss = loss
        self.duplicate = duplicate
        self.reorder = reorder
    }

    public static let perfect = LinkConditions()
}

/// A deterministic, seeded network between endpoints in virtual time: latency, jitter, loss,
/// duplication and reordering. Same seed, same inputs, same deliveries.
///
/// Used by the transport tests, soaks and simulations in place of sockets.
public final class LinkSimulator {
    /// A datagram on its way.
    public struct Datagram: Sendable {
        public var bytes: [UInt8]
        public var from: NetAddress
        public var to: NetAddress
        public var deliverAt: Double
        fileprivate var order: UInt64
    }

    public var conditions: LinkConditions
    public private(set) var sent: UInt64 = 0
    public private(set) var lost: UInt64 = 0
    public private(set) var duplicated: UInt64 = 0
    public private(set) var delivered: UInt64 = 0
    public let seed: UInt64

    private var random: SeededRandomSource
    private var queue: [Datagram] = []
    private var order: UInt64 = 0

    public init(conditions: LinkConditions, seed: UInt64) {
        self.conditions = conditions
        self.seed = seed
        random = SeededRandomSource(seed: seed)
    }

    /// Datagrams still in flight.
    public var inFlight: Int { queue.count }

    /// When the next datagram is due, if any.
    public var nextDeliveryTime: Double? { queue.first?.deliverAt }

    /// Puts a datagram on the wire at `now`, with `conditions` (or `override` for this one).
    public func send(_ bytes: [UInt8], from: NetAddress, to: NetAddress, now: Double, override: LinkConditions? = nil) {
        let conditions = override ?? self.conditions
        sent &+= 1
        if random.nextUnit() < conditions.loss {
            lost &+= 1
            return
        }
        enqueue(bytes, from: from, to: to, now: now, conditions: conditions)
        if random.nextUnit() < conditions.duplicate {
            duplicated &+= 1
            enqueue(bytes, from: from, to: to, now: now, conditions: conditions)
        }
    }

    /// Removes and returns every datagram due at or before `now`, in delivery order.
    public func receive(now: Double) -> [Datagram] {
        var due: [Datagram] = []
        while let first = queue.first, first.deliverAt <= now {
            due.append(popFirst())
        }
        delivered &+= UInt64(due.count)
        return due
    }

    /// Drops everything in flight (a cable pulled).
    public func clear() { queue.removeAll() }

    private func enqueue(_ bytes: [UInt8], from: NetAddress, to: NetAddress, now: Double, conditions: LinkConditions) {
        var delay = conditions.latency + (random.nextUnit() * 2 - 1) * conditions.jitter
        if random.nextUnit() < conditions.reorder { delay += conditions.latency + conditions.jitter }
        order &+= 1
        push(Datagram(bytes: bytes, from: from, to: to, deliverAt: now + max(0, delay), order: order))
    }

    // A binary min-heap on (deliverAt, order): ties deliver in send order.
    private func precedes(_ a: Datagram, _ b: Datagram) -> Bool {
        a.deliverAt < b.deliverAt || (a.deliverAt == b.deliverAt && a.order < b.order)
    }

    private func push(_ datagram: Datagram) {
        queue.append(datagram)
        var child = queue.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(queue[child], queue[parent]) else { break }
            queue.swapAt(child, parent)
            child = parent
        }
    }

    private func popFirst() -> Datagram {
        queue.swapAt(0, queue.count - 1)
        let first = queue.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < queue.count && precedes(queue[left], queue[smallest]) { smallest = left }
            if right < queue.count && precedes(queue[right], queue[smallest]) { smallest = right }
            if smallest == parent { break }
            queue.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}

/// A sink that keeps copies of everything: for tests, tools and simulations (it allocates).
public struct RecordingSink: ServerSink, ClientSink {
    public struct Transmission: Sendable {
        public var bytes: [UInt8]
        public var to: NetAddress
    }

    public enum Event: Sendable, Equatable {
        case connected(clientIndex: Int, clientID: UInt64, address: NetAddress)
        case serverPayload(clientIndex: Int, bytes: [UInt8])
        case disconnected(clientIndex: Int, clientID: UInt64, reason: DisconnectReason)
        case stateChanged(from: ClientState, to: ClientState)
        case clientPayload(bytes: [UInt8])
    }

    public var transmissions: [Transmission] = []
    public var events: [Event] = []

    public init() {}

    public mutating func transmit(_ datagram: UnsafeRawBufferPointer, to address: NetAddress) {
        transmissions.append(Transmission(bytes: Array(datagram), to: address))
    }

    public mutating func serverEvent(_ event: ServerEvent) {
        switch event {
        case .connected(let index, let id, let address): events.append(.connected(clientIndex: index, clientID: id, address: address))
        case .payload(let index, let bytes): events.append(.serverPayload(clientIndex: index, bytes: Array(bytes)))
        case .disconnected(let index, let id, _, let reason): events.append(.disconnected(clientIndex: index, clientID: id, reason: reason))
        }
    }

    public mutating func clientEvent(_ event: ClientEvent) {
        switch event {
        case .stateChanged(let from, let to): events.append(.stateChanged(from: from, to: to))
        case .payload(let bytes): events.append(.clientPayload(bytes: Array(bytes)))
        }
    }

    /// Hands back what was recorded and starts afresh.
    public mutating func drain() -> (transmissions: [Transmission], events: [Event]) {
        defer { transmissions.removeAll(); events.removeAll() }
        return (transmissions, events)
    }
}
