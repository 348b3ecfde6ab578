import GameRuntime
import Logging
import NetProtocol

/// Echoes every payload to its sender and reports connections on standard output.
final class EchoHandler: TransportServerHandler {
    let name: String
    let stop: StopSignal
    let deadline: Double?
    /// When set, replies are this long (the payload, zero-padded or cut): one buffer, reused.
    private var reply: UnsafeMutableRawBufferPointer?
    private(set) var echoed: UInt64 = 0

    init(name: String, stop: StopSignal, deadline: Double?, replyBytes: Int? = nil) {
        self.name = name
        self.stop = stop
        self.deadline = deadline
        if let replyBytes {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: replyBytes, alignment: 1)
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            reply = buffer
        }
    }

    deinit { reply?.deallocate() }

    func clientConnected(_ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress) {
        print("\(name): connected client_index=\(clientIndex) client_id=\(clientID) address=\(address)")
    }

    func payloadReceived(_ context: inout TransportServer.Context, clientIndex: Int, bytes: UnsafeRawBufferPointer) {
        guard let reply else {
            if context.send(bytes, to: clientIndex) { echoed &+= 1 }
            return
        }
        let copied = min(bytes.count, reply.count)
        reply.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<copied]))
        if copied < reply.count { reply[copied...].initializeMemory(as: UInt8.self, repeating: 0) }
        if context.send(UnsafeRawBufferPointer(reply), to: clientIndex) { echoed &+= 1 }
    }

    func clientDisconnected(
        _ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress, reason: DisconnectReason
    ) {
        print("\(name): disconnected client_index=\(clientIndex) client_id=\(clientID) address=\(address) reason=\(reason)")
    }

    func tick(_ context: inout TransportServer.Context) {
        if let deadline, context.now.seconds >= deadline { stop.stop() }
    }
}

/// Runs an echo transport server until SIGINT/SIGTERM or `seconds` pass, then prints totals.
func runEchoServer(name: String, configuration: ServerConfiguration, bind: NetAddress, seconds: Double?, replyBytes: Int? = nil) throws {
    lineBufferedOutput()
    let stop = StopFlag()
    stopOnTermination(stop)
    let server = try TransportServer(configuration: configuration, bind: bind)
    let clock = SystemClock()
    let handler = EchoHandler(name: name, stop: stop.signal, deadline: seconds.map { clock.monotonicSeconds() + $0 }, replyBytes: replyBytes)
    let names = configuration.serverAddresses.map(\.description).joined(separator: ",")
    print("\(name): ready udp=\(server.socket.localAddress) protocol_id=0x\(String(configuration.protocolID, radix: 16)) max_clients=\(configuration.maxClients) token_addresses=\(names)")
    // Named as the game workers are, so that tools can read this thread's CPU time beside theirs.
    nameCurrentThread("arbiter-echo")
    server.run(handler: handler, until: stop.signal)
    let counters = server.endpoint.counters
    let drops = counters.dropSummary.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    print("\(name): stopped received=\(counters.datagramsReceived) sent=\(counters.datagramsSent) echoed=\(handler.echoed) connects=\(counters.connects) disconnects=\(counters.disconnects) dropped=\(counters.totalDrops)\(drops.isEmpty ? "" : " " + drops)")
}
