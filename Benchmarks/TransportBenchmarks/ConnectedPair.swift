import NetProtocol

/// A server and client endpoint joined by hand, in virtual time, for steady-state measurements.
final class ConnectedPair: @unchecked Sendable {
    let server: ServerEndpoint
    let client = ClientEndpoint()
    let clientAddress = NetAddress(ipv4: 10, 0, 0, 1, port: 5000)
    let serverAddress: NetAddress
    let scratch = Scratch()
    var time = 0.0

    init(key: SymmetricKey, serverAddress: NetAddress) {
        self.serverAddress = serverAddress
        var random = SeededRandomSource(seed: 11)
        guard let server = try? ServerEndpoint(
            configuration: ServerConfiguration(protocolID: 0xBE9C, privateKey: key, serverAddresses: [serverAddress]),
            random: &random, now: .virtual(0))
        else { fatalError("benchmark server configuration rejected") }
        self.server = server
        guard let token = try? ConnectToken.generate(
            publicAddresses: [serverAddress], expireSeconds: -1, timeoutSeconds: -1, clientID: 1, protocolID: 0xBE9C,
            privateKey: key, nowUnix: 1_700_000_000, random: &random)
        else { fatalError("benchmark token rejected") }
        var sink = ScratchSink(scratch: scratch)
        client.connect(token: token, now: .virtual(0), sink: &sink)
        for _ in 0..<3 {
            server.handle(scratch.lastDatagram, from: clientAddress, now: .virtual(0), sink: &sink)
            client.handle(scratch.lastDatagram, from: serverAddress, now: .virtual(0), sink: &sink)
        }
        precondition(client.state == .connected && server.connectedClientCount == 1, "benchmark pair failed to connect")
    }

    func roundTrip(input: UnsafeRawBufferPointer, reply: UnsafeRawBufferPointer) {
        // Virtual time stands still, so no keep-alives or timeouts interleave.
        let now = NetInstant.virtual(0)
        var sink = ScratchSink(scratch: scratch)
        client.send(input, now: now, sink: &sink)
        server.handle(scratch.lastDatagram, from: clientAddress, now: now, sink: &sink)
        server.send(reply, to: 0, now: now, sink: &sink)
        client.handle(scratch.lastDatagram, from: serverAddress, now: now, sink: &sink)
    }
}
