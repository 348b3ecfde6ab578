import NetProtocol

/// Runs a ``ClientEndpoint`` on a real UDP socket. Single-threaded: call ``poll(until:_:)``
/// in your loop; it waits for datagrams until the deadline, runs the endpoint's timers and
/// flushes what the endpoint wants sent.
public final class TransportClient {
    struct Sink: ClientSink {
        let outgoing: DatagramBatch
        let payloads: PayloadQueue
        let client: TransportClient

        func transmit(_ datagram: UnsafeRawBufferPointer, to address: NetAddress) {
            if let conditioner = client.conditioner {
                conditioner.send(Array(datagram), from: client.socket.localAddress, to: address, now: client.clock.monotonicSeconds())
            } else {
                outgoing.transmit(datagram, to: address)
            }
        }

        func clientEvent(_ event: ClientEvent) {
            switch event {
            case .payload(let bytes):
                if !payloads.push(clientIndex: 0, bytes: bytes) { client.droppedPayloads &+= 1 }
            case .stateChanged(let from, let to):
                client.stateChanges.append((from, to))
            }
        }
    }

    public let endpoint = ClientEndpoint()
    public let socket: UDPSocket
    public let clock: SystemClock
    public private(set) var droppedPayloads: UInt64 = 0
    /// When set, every datagram in both directions goes through this seeded simulator first
    /// (loss, latency, jitter, duplication): the load tester's network conditioner.
    public var conditioner: LinkSimulator?
    /// State changes since the last `poll`, oldest first.
    public private(set) var stateChanges: [(ClientState, ClientState)] = []
    private let incoming: DatagramBatch
    private let outgoing: DatagramBatch
    private let payloads = PayloadQueue(capacity: 64)
    private var sink: Sink { Sink(outgoing: outgoing, payloads: payloads, client: self) }

    /// Opens a socket on `bind` (default: any port on the dual-stack wildcard, so both IPv4
    /// and IPv6 servers are reachable).
    public init(bind: NetAddress? = nil, clock: SystemClock = SystemClock()) throws {
        if let bind {
            socket = try UDPSocket(bind: bind)
        } else if let dualStack = try? UDPSocket(bind: NetAddress(ipv6Groups: [0, 0, 0, 0, 0, 0, 0, 0], port: 0)) {
            socket = dualStack
        } else {
            socket = try UDPSocket(bind: NetAddress(ipv4: 0, 0, 0, 0, port: 0))
        }
        self.clock = clock
        incoming = DatagramBatch(socket: socket, capacity: 64)
        outgoing = DatagramBatch(socket: socket, capacity: 64)
    }

    public var state: ClientState { endpoint.state }

    public func connect(token: ConnectToken) {
        var sink = self.sink
        endpoint.connect(token: token, now: clock.now(), sink: &sink)
        outgoing.flush()
    }

    /// Sends one payload now. Returns false unless connected.
    @discardableResult
    public func send(_ payload: [UInt8]) -> Bool {
        var sink = self.sink
        let sent = endpoint.send(payload, now: clock.now(), sink: &sink)
        outgoing.flush()
        return sent
    }

    /// Disconnects (redundant disconnect packets when connected).
    public func disconnect() {
        var sink = self.sink
        endpoint.disconnect(now: clock.now(), sink: &sink)
        outgoing.flush()
    }

    /// Receives and processes datagrams until the monotonic clock reaches `deadline`, then
    /// runs the endpoint's timers once. Payloads go to `onPayload` after each endpoint call.
    public func poll(until deadline: Double, _ onPayload: (UnsafeRawBufferPointer) -> Void = { _ in }) {
        stateChanges.removeAll(keepingCapacity: true)
        while true {
            let remaining = deadline - clock.monotonicSeconds()
            if remaining > 0 { socket.waitReadable(timeoutMilliseconds: Int((remaining * 1000).rounded(.up))) }
            let count = incoming.receive()
            if count > 0 {
                let now = clock.now()
                var sink = self.sink
                for index in 0..<count {
                    incoming.withDatagram(index) { bytes, address in
                        if let conditioner {
                            conditioner.send(Array(bytes), from: address, to: socket.localAddress, now: now.seconds)
                        } else {
                            endpoint.handle(bytes, from: address, now: now, sink: &sink)
                        }
                    }
                    payloads.drain { _, bytes in onPayload(bytes) }
                }
            }
            if conditioner != nil { deliverConditioned(onPayload) }
            if clock.monotonicSeconds() >= deadline && count < incoming.capacity { break }
        }
        var sink = self.sink
        endpoint.update(now: clock.now(), sink: &sink)
        if conditioner != nil { deliverConditioned(onPayload) }
        outgoing.flush()
    }

    /// Releases what the conditioner holds that is due: outgoing datagrams to the socket,
    /// incoming ones to the endpoint.
    private func deliverConditioned(_ onPayload: (UnsafeRawBufferPointer) -> Void) {
        guard let conditioner else { return }
        let now = clock.now()
        var sink = self.sink
        for datagram in conditioner.receive(now: now.seconds) {
            datagram.bytes.withUnsafeBytes { bytes in
                if datagram.to == socket.localAddress {
                    endpoint.handle(bytes, from: datagram.from, now: now, sink: &sink)
                } else {
                    outgoing.transmit(bytes, to: datagram.to)
                }
            }
            payloads.drain { _, bytes in onPayload(bytes) }
        }
        outgoing.flush()
    }
}
