/// The pump every virtual-time harness runs on: a seeded ``LinkSimulator``, a clock that moves
/// one fixed tick per step, and delivery of what is due. The transport, channel and match
/// harnesses (and the channel soak) are each only what they connect to it.
public final class VirtualNetwork {
    public let link: LinkSimulator
    /// Virtual seconds. Tests may set it (a clock that jumps, a token that expires).
    public var time: Double
    public let tick: Double

    public init(conditions: LinkConditions = .perfect, seed: UInt64, tick: Double, start: Double = 0) {
        link = LinkSimulator(conditions: conditions, seed: seed)
        self.tick = tick
        time = start
    }

    public func send(_ bytes: [UInt8], from: NetAddress, to: NetAddress) { link.send(bytes, from: from, to: to, now: time) }
    public func send(_ packet: UnsafeRawBufferPointer, from: NetAddress, to: NetAddress) { link.send(Array(packet), from: from, to: to, now: time) }

    /// Hands every datagram due by now to `body`, in arrival order.
    public func deliverDue(_ body: (LinkSimulator.Datagram) -> Void) {
        for datagram in link.receive(now: time) { body(datagram) }
    }

    public func advance() { time += tick }
}

/// A harness stepped one tick at a time on a ``VirtualNetwork``.
public protocol VirtualTimeHarness: AnyObject {
    var network: VirtualNetwork { get }
    /// Delivers what is due, lets every party act, and advances the network's clock one tick.
    func step()
}

extension VirtualTimeHarness {
    public func run(ticks: Int) {
        for _ in 0..<ticks { step() }
    }

    public func run(seconds: Double) {
        let end = network.time + seconds
        while network.time < end { step() }
    }

    /// Steps until `condition` holds; false if `seconds` of virtual time pass first.
    @discardableResult
    public func run(forAtMost seconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = network.time + seconds
        while network.time < deadline {
            if condition() { return true }
            step()
        }
        return condition()
    }
}
