import NetProtocol
import Testing

/// Truncations of every valid packet, and random datagrams: never a crash, always a counted drop,
/// never an answer larger than the datagram that caused it.
@Suite struct HostileInputTests {
    /// A capture of one real session: every packet type, both directions.
    func capture() throws -> (harness: TransportHarness, toServer: [[UInt8]], toClient: [[UInt8]]) {
        let harness = try TransportHarness(maxClients: 1)
        var toServer: [[UInt8]] = []
        var toClient: [[UInt8]] = []
        harness.addClient(token: try harness.makeToken(clientID: 1))
        harness.addClient(token: try harness.makeToken(clientID: 2))  // will be denied
        for _ in 0..<30 {
            for datagram in harness.link.receive(now: harness.time + 1) {
                if datagram.to == harness.serverAddress { toServer.append(datagram.bytes) } else { toClient.append(datagram.bytes) }
                harness.link.send(datagram.bytes, from: datagram.from, to: datagram.to, now: harness.time)
            }
            harness.step()
        }
        harness.clients[0].endpoint.send([UInt8](repeating: 7, count: 1200), now: harness.now, sink: &harness.clients[0].sink)
        harness.server.send([UInt8](repeating: 8, count: 1200), to: 0, now: harness.now, sink: &harness.serverSink)
        toServer += harness.clients[0].sink.transmissions.map(\.bytes)
        toClient += harness.serverSink.transmissions.map(\.bytes)
        harness.flush()
        let types = Set((toServer + toClient).map { $0[0] & 0x0f })
        #expect(types == [0, 1, 2, 3, 4, 5], "capture is missing a packet type: \(types.sorted())")
        return (harness, toServer, toClient)
    }

    @Test func everyTruncationOfEveryPacketIsACountedDrop() throws {
        let (harness, toServer, toClient) = try capture()
        let clientAddress = harness.clients[0].address
        let connectedBefore = harness.server.connectedClientCount
        let codec = PacketCodec(protocolID: TransportHarness.protocolID)
        var samples = toServer + toClient
        samples.append(codec.write(type: .disconnect, sequence: 3, body: [], key: SymmetricKey(bytes: [UInt8](repeating: 1, count: 32))!))
        var fed = 0
        for packet in samples {
            for length in 0..<packet.count {
                let truncated = Array(packet.prefix(length))
                for from in [clientAddress, NetAddress(ipv4: 10, 9, 9, 9, port: 1)] {
                    let before = harness.server.counters.totalDrops
                    harness.server.handle(truncated, from: from, now: harness.now, sink: &harness.serverSink)
                    #expect(harness.server.counters.totalDrops == before + 1)
                    #expect(harness.serverSink.transmissions.isEmpty)
                    fed += 1
                }
                let clientBefore = harness.clients[0].endpoint.counters.totalDrops
                harness.clients[0].endpoint.handle(truncated, from: harness.serverAddress, now: harness.now, sink: &harness.clients[0].sink)
                #expect(harness.clients[0].endpoint.counters.totalDrops == clientBefore + 1)
            }
        }
        #expect(fed > 10_000)
        #expect(harness.server.connectedClientCount == connectedBefore)
        #expect(harness.state(0) == .connected)
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func randomDatagramsNeverCrashAndNeverAmplify(seed: UInt64) throws {
        let harness = try TransportHarness(maxClients: 4)
        harness.addClient(token: try harness.makeToken(clientID: 1))
        #expect(harness.run(forAtMost: 1) { harness.state(0) == .connected })
        var random = SeededRandomSource(seed: seed)
        let connected = harness.clients[0].address
        for _ in 0..<20_000 {
            let length = Int(random.next() % 1400)
            var bytes = [UInt8](repeating: 0, count: length)
            bytes.withUnsafeMutableBytes { random.fill($0) }
            if length > 0 && random.next() % 2 == 0 {
                // Plausible prefixes reach deeper: valid types and sequence sizes.
                bytes[0] = UInt8(random.next() % 8) << 4 | UInt8(random.next() % 7)
            }
            let from = random.next() % 4 == 0 ? connected : NetAddress(ipv4: 10, 1, UInt8(random.next() % 256), 1, port: UInt16(truncatingIfNeeded: random.next()))
            harness.server.handle(bytes, from: from, now: harness.now, sink: &harness.serverSink)
            let sent = harness.serverSink.drain().transmissions.reduce(0) { $0 + $1.bytes.count }
            #expect(sent <= length)
            harness.clients[0].endpoint.handle(bytes, from: harness.serverAddress, now: harness.now, sink: &harness.clients[0].sink)
        }
        #expect(harness.server.counters.payloadsReceived == 0)
        #expect(harness.server.counters.totalDrops == 20_000)
        #expect(harness.server.connectedClientCount == 1)
        #expect(harness.state(0) == .connected)
    }

    @Test func handshakeRepliesAreNeverLargerThanTheirTrigger() throws {
        let harness = try TransportHarness(maxClients: 2)
        for clientID in UInt64(1)...4 {
            harness.addClient(token: try harness.makeToken(clientID: clientID))
        }
        // Watch every datagram the server receives from a not-yet-connected address.
        for _ in 0..<120 {
            for datagram in harness.link.receive(now: harness.time) {
                if datagram.to == harness.serverAddress {
                    let wasConnected = harness.server.clientIndex(of: datagram.from) != nil
                    harness.server.handle(datagram.bytes, from: datagram.from, now: harness.now, sink: &harness.serverSink)
                    if !wasConnected {
                        let sent = harness.serverSink.transmissions.reduce(0) { $0 + $1.bytes.count }
                        #expect(sent <= datagram.bytes.count)
                    }
                    harness.flush()
                } else if let index = harness.clients.firstIndex(where: { $0.address == datagram.to }) {
                    harness.clients[index].endpoint.handle(datagram.bytes, from: datagram.from, now: harness.now, sink: &harness.clients[index].sink)
                }
            }
            harness.server.update(now: harness.now, sink: &harness.serverSink)
            for index in harness.clients.indices {
                harness.clients[index].endpoint.update(now: harness.now, sink: &harness.clients[index].sink)
            }
            harness.flush()
            harness.time += 1.0 / 60
        }
        #expect(harness.server.connectedClientCount == 2)
    }
}
