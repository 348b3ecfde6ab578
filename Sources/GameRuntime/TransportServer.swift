import Logging
import MatchContract
import NetProtocol

/// What a transport server tells the application. Payload bytes are valid only during the
/// call; the application may send and disconnect through the context from inside it.
public protocol TransportServerHandler: AnyObject {
    func clientConnected(_ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress)
    func payloadReceived(_ context: inout TransportServer.Context, clientIndex: Int, bytes: UnsafeRawBufferPointer)
    func clientDisconnected(_ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress, reason: DisconnectReason)
    /// Called after every endpoint update (every `updateInterval`), and whenever the handler's
    /// ``nextDeadline`` has come.
    func tick(_ context: inout TransportServer.Context)
    /// When the handler next needs ``tick(_:)`` (monotonic seconds), if sooner than the next
    /// endpoint update: the loop sleeps until then rather than polling.
    var nextDeadline: Double? { get }
    /// Called once when the loop has stopped and every client was disconnected.
    func serverStopped(now: Double)
}

extension TransportServerHandler {
    public func tick(_ context: inout TransportServer.Context) {}
    public func serverStopped(now: Double) {}
    public var nextDeadline: Double? { nil }
}

/// When a ``TransportServer`` reads its socket.
public enum ReceiveSchedule: Sendable {
    /// Wakes for datagrams as they arrive: for a server that answers each one at once
    /// (`arbiter echo`).
    case onArrival
    /// Sleeps to the handler's next deadline (or the endpoint's timers), then drains the socket:
    /// for a game server, which applies inputs and answers only at its ticks. One wake-up and a
    /// few full `recvmmsg` batches per tick instead of a wake-up per datagram; each datagram
    /// keeps the kernel's arrival time, so round-trip times do not grow by the wait.
    case atDeadlines
}

/// Runs a ``ServerEndpoint`` on a real UDP socket: batched receive, the endpoint's timers on
/// absolute deadlines, batched send. Blocking; run it on a thread of its own.
public final class TransportServer {
    /// What the handler can do while it is called.
    public struct Context {
        let server: TransportServer
        /// The instant the current batch is processed at.
        public let now: NetInstant

        public var endpoint: ServerEndpoint { server.endpoint }

        /// Time spent receiving (socket, decryption, the handler's payload calls) since the
        /// previous `tick` call, in nanoseconds.
        public var receiveNanosecondsSinceLastTick: UInt64 { server.receiveNanoseconds }

        /// Sends the datagrams queued so far now (one batched syscall) rather than after the call.
        public func flush() { server.outgoing.flush() }

        /// Sends a payload (1...1200 bytes) to a connected client.
        @discardableResult
        public mutating func send(_ payload: UnsafeRawBufferPointer, to clientIndex: Int) -> Bool {
            var sink = server.sink
            return server.endpoint.send(payload, to: clientIndex, now: now, sink: &sink)
        }

        public mutating func disconnect(_ clientIndex: Int) {
            var sink = server.sink
            server.endpoint.disconnect(clientIndex, now: now, sink: &sink)
        }
    }

    /// Routes endpoint output: datagrams into the send batch, events into queues that are
    /// handed to the application once the endpoint call has returned.
    struct Sink: ServerSink {
        let outgoing: DatagramBatch
        let payloads: PayloadQueue
        let server: TransportServer

        func transmit(_ datagram: UnsafeRawBufferPointer, to address: NetAddress) {
            outgoing.transmit(datagram, to: address)
        }

        func serverEvent(_ event: ServerEvent) {
            switch event {
            case .payload(let clientIndex, let bytes):
                if !payloads.push(clientIndex: clientIndex, bytes: bytes) { server.droppedPayloads &+= 1 }
            case .connected(let clientIndex, let clientID, let address):
                server.pendingEvents.append(.connected(clientIndex, clientID, address))
            case .disconnected(let clientIndex, let clientID, let address, let reason):
                if !server.streamConnections.isEmpty { server.releaseStream(clientIndex, reason: reason) }
                server.pendingEvents.append(.disconnected(clientIndex, clientID, address, reason))
            }
        }

        func transmit(_ payload: UnsafeRawBufferPointer, toStream clientIndex: Int) {
            server.transmitStream(payload, to: clientIndex)
        }
    }

    enum PendingEvent {
        case connected(Int, UInt64, NetAddress)
        case disconnected(Int, UInt64, NetAddress, DisconnectReason)
    }

    public let endpoint: ServerEndpoint
    public let socket: UDPSocket
    /// How often the endpoint's timers run.
    public let updateInterval: Double
    public let schedule: ReceiveSchedule
    public private(set) var droppedPayloads: UInt64 = 0
    fileprivate var receiveNanoseconds: UInt64 = 0
    let logger: Logger
    private let clock: SystemClock
    private let incoming: DatagramBatch
    fileprivate let outgoing: DatagramBatch
    private let payloads: PayloadQueue
    /// How many full batches one drain may read before the timers get their turn: under a
    /// flood the rest waits in the socket (and the kernel drops what does not fit).
    private let batchesPerDrain: Int
    fileprivate var pendingEvents: [PendingEvent] = []
    private var sink: Sink { Sink(outgoing: outgoing, payloads: payloads, server: self) }
    /// The WebSocket players' side door (``attachStreams(_:)``), and its spare batch.
    private var streams: StreamInbox?
    private var streamBatch: StreamInbox.Batch?
    /// Each stream client's connection, by client index (empty without streams).
    fileprivate var streamConnections: [PlayStreamConnection?] = []
    /// Stream clients whose socket fell behind while the endpoint was sending to them: released
    /// once that call has returned.
    private var slowStreams: [Int] = []

    /// Binds the socket and starts the endpoint with a challenge key from the system CSPRNG.
    /// The bound address (with its real port, when `address` says port 0) is added to the
    /// addresses tokens may name.
    public init(
        configuration: ServerConfiguration, bind address: NetAddress, updateInterval: Double = 0.01,
        schedule: ReceiveSchedule = .onArrival, batchSize: Int = 128, clock: SystemClock = SystemClock(),
        logger: Logger = Logger(label: "arbiter.transport")
    ) throws {
        socket = try UDPSocket(bind: address)
        // Without the kernel's stamps a drained datagram would carry the drain's time instead.
        self.schedule = schedule == .atDeadlines && !socket.enableReceiveTimestamps() ? .onArrival : schedule
        // The address actually bound (port 0 resolved) always counts as this server's own.
        var configuration = configuration
        if !configuration.serverAddresses.contains(socket.localAddress) {
            configuration.serverAddresses.append(socket.localAddress)
        }
        var random = SystemRandomSource()
        endpoint = try ServerEndpoint(configuration: configuration, random: &random, now: clock.now())
        self.updateInterval = updateInterval
        self.clock = clock
        self.logger = logger
        incoming = DatagramBatch(socket: socket, capacity: batchSize)
        outgoing = DatagramBatch(socket: socket, capacity: batchSize)
        // Per arrival, a few batches are plenty; at deadlines a drain must take a whole tick's
        // traffic: a few datagrams per client.
        batchesPerDrain = self.schedule == .onArrival ? 16 : max(16, 4 * configuration.maxClients / batchSize + 1)
        payloads = PayloadQueue(capacity: 8)
        pendingEvents.reserveCapacity(16)
    }

    /// Takes WebSocket players from `inbox` too (``StreamGateway`` fills it): each becomes a
    /// client slot of this server's endpoint, so the handler sees them as it sees UDP clients.
    /// Call before ``run(handler:until:)``.
    public func attachStreams(_ inbox: StreamInbox) {
        streams = inbox
        streamBatch = inbox.makeBatch()
        streamConnections = [PlayStreamConnection?](repeating: nil, count: endpoint.maxClients)
        slowStreams.reserveCapacity(16)
    }

    /// Serves until `stop` is set, then disconnects every client (redundant disconnect packets;
    /// stream clients' sockets are closed) and returns.
    public func run(handler: some TransportServerHandler, until stop: StopSignal) {
        var nextUpdate = clock.monotonicSeconds()
        while !stop.isStopped {
            let deadline = handler.nextDeadline
            let due: Double
            switch schedule {
            case .onArrival:
                // The endpoint's timers or the handler's next tick, whichever is sooner (a
                // match's tick is not rounded up to a poll); datagrams wake the loop meanwhile.
                due = min(nextUpdate, deadline ?? nextUpdate)
                let waitSeconds = due - clock.monotonicSeconds()
                if waitSeconds > 0 { socket.waitReadable(timeoutMilliseconds: Int((waitSeconds * 1000).rounded(.up))) }
            case .atDeadlines:
                // The endpoint's timers wait for a tick that comes within one more interval:
                // one wake-up per tick rather than one per tick and one per timer.
                if let deadline, deadline < nextUpdate + updateInterval { due = deadline } else { due = nextUpdate }
                clock.sleep(untilMonotonicSeconds: due)
            }
            receiveWaiting(handler: handler)
            if streams != nil { receiveStreams(handler: handler) }
            let now = clock.now()
            var ticked = false
            if now.seconds >= nextUpdate {
                var sink = self.sink
                endpoint.update(now: now, sink: &sink)
                deliverEvents(handler: handler, now: now)
                // Absolute deadlines; if we fell far behind, skip ahead rather than burst.
                nextUpdate += updateInterval
                if now.seconds - nextUpdate > 10 * updateInterval { nextUpdate = now.seconds + updateInterval }
                ticked = true
            }
            if ticked || now.seconds >= due {
                var context = Context(server: self, now: now)
                handler.tick(&context)
                receiveNanoseconds = 0
            }
            if !slowStreams.isEmpty { dropSlowStreams(handler: handler, now: now) }
            outgoing.flush()
        }
        let now = clock.now()
        var sink = self.sink
        // Opens still waiting never reach a slot; everyone connected is released below.
        for connection in streams?.stop() ?? [] { connection.end(.serverShutdown) }
        endpoint.disconnectAll(now: now, sink: &sink)
        deliverEvents(handler: handler, now: now)
        outgoing.flush()
        handler.serverStopped(now: now.seconds)
    }

    /// Drains the socket (a bounded number of batches, so timers still run under a flood).
    private func receiveWaiting(handler: some TransportServerHandler) {
        let started = clock.uptimeNanoseconds()
        defer { receiveNanoseconds &+= clock.uptimeNanoseconds() &- started }
        for _ in 0..<batchesPerDrain {
            let count = incoming.receive()
            if count == 0 { return }
            let drained = clock.now()
            // The kernel's arrival stamps are on the real-time clock; the endpoint's on the
            // monotonic one. One offset per batch maps them (never later than the drain).
            let realtimeAtDrain = schedule == .atDeadlines ? clock.realtimeNanoseconds() : 0
            var sink = self.sink
            for index in 0..<count {
                var now = drained
                if realtimeAtDrain != 0 {
                    let stamp = incoming.receivedAt(index)
                    if stamp != 0 && stamp < realtimeAtDrain {
                        now.seconds -= Double(realtimeAtDrain &- stamp) / 1_000_000_000
                    }
                }
                incoming.withDatagram(index) { bytes, address in
                    endpoint.handle(bytes, from: address, now: now, sink: &sink)
                }
                deliverEvents(handler: handler, now: now)
            }
            outgoing.flush()
            if count < incoming.capacity { return }
        }
    }

    /// Hands the WebSocket players' opens, frames and closes since the last pass to the endpoint
    /// (and so to the handler), in the order each connection sent them.
    private func receiveStreams(handler: some TransportServerHandler) {
        // Out of the property while in use, so that filling it never copies its storage.
        guard let streams, var batch = streamBatch else { return }
        streamBatch = nil
        defer { streamBatch = batch }
        streams.take(swapping: &batch)
        guard !batch.isEmpty else { return }
        let started = clock.uptimeNanoseconds()
        defer { receiveNanoseconds &+= clock.uptimeNanoseconds() &- started }
        var now = clock.now()
        var sink = self.sink
        for open in batch.opens where !open.connection.hasEnded {
            let admission = open.token.withUnsafeBytes { token in
                endpoint.admitStream(connectToken: token, peer: open.peer, now: now, sink: &sink)
            }
            switch admission {
            case .success(let clientIndex):
                open.connection.clientIndex = clientIndex
                streamConnections[clientIndex] = open.connection
                open.connection.admitted()
            case .failure(let refusal):
                open.connection.end(PlayCloseCode(refusal))
            }
            deliverEvents(handler: handler, now: now)
        }
        let drained = now.seconds
        batch.bytes.withUnsafeBytes { slab in
            for index in 0..<batch.frameCount {
                guard let clientIndex = batch.owners[index]?.clientIndex, clientIndex >= 0 else { continue }
                // Like a datagram's kernel stamp: the frame's arrival, never later than now.
                now.seconds = min(drained, batch.arrivals[index])
                let start = index * Netcode.maxPayloadBytes
                endpoint.receiveStream(
                    UnsafeRawBufferPointer(rebasing: slab[start..<start + batch.lengths[index]]), from: clientIndex, now: now, sink: &sink)
                deliverEvents(handler: handler, now: now)
            }
        }
        now.seconds = drained
        for connection in batch.closes where connection.clientIndex >= 0 {
            endpoint.disconnect(connection.clientIndex, reason: .peerDisconnected, now: now, sink: &sink)
            deliverEvents(handler: handler, now: now)
        }
    }

    /// A stream client's slot was released: its socket is closed with the reason's code.
    fileprivate func releaseStream(_ clientIndex: Int, reason: DisconnectReason) {
        guard streamConnections.indices.contains(clientIndex), let connection = streamConnections[clientIndex] else { return }
        streamConnections[clientIndex] = nil
        connection.clientIndex = -1
        connection.end(PlayCloseCode(reason))
    }

    fileprivate func transmitStream(_ payload: UnsafeRawBufferPointer, to clientIndex: Int) {
        guard streamConnections.indices.contains(clientIndex), let connection = streamConnections[clientIndex] else { return }
        if !connection.deliver(payload) { slowStreams.append(clientIndex) }
    }

    private func dropSlowStreams(handler: some TransportServerHandler, now: NetInstant) {
        var sink = self.sink
        for clientIndex in slowStreams where endpoint.isStream(clientIndex) {
            endpoint.disconnect(clientIndex, reason: .localDisconnect, now: now, sink: &sink)
        }
        slowStreams.removeAll(keepingCapacity: true)
        deliverEvents(handler: handler, now: now)
    }

    private func deliverEvents(handler: some TransportServerHandler, now: NetInstant) {
        guard !pendingEvents.isEmpty || payloads.count > 0 else { return }
        var context = Context(server: self, now: now)
        // Connection events first, so a handler never sees a payload from a client it has not
        // been told about; the queues are tiny (one datagram's worth).
        var index = 0
        while index < pendingEvents.count {
            switch pendingEvents[index] {
            case .connected(let clientIndex, let clientID, let address):
                handler.clientConnected(&context, clientIndex: clientIndex, clientID: clientID, address: address)
            case .disconnected(let clientIndex, let clientID, let address, let reason):
                handler.clientDisconnected(&context, clientIndex: clientIndex, clientID: clientID, address: address, reason: reason)
            }
            index += 1
        }
        pendingEvents.removeAll(keepingCapacity: true)
        payloads.drain { clientIndex, bytes in
            handler.payloadReceived(&context, clientIndex: clientIndex, bytes: bytes)
        }
    }
}
