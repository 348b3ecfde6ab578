import NetProtocol
import Testing

/// One test per rule the server applies before it will talk to a client.
@Suite struct RejectionTests {
    let attacker = NetAddress(ipv4: 10, 9, 9, 9, port: 9999)

    /// The request a client would send for `token`.
    func request(for token: ConnectToken) -> [UInt8] {
        let client = ClientEndpoint()
        var sink = RecordingSink()
        client.connect(token: token, now: .virtual(0), sink: &sink)
        return sink.transmissions[0].bytes
    }

    func expectSilentDrop(_ harness: TransportHarness, _ bytes: [UInt8], from address: NetAddress, reason: DropReason) {
        let before = harness.server.counters
        harness.server.handle(bytes, from: address, now: harness.now, sink: &harness.serverSink)
        #expect(harness.serverSink.transmissions.isEmpty, "answered instead of dropping (\(reason))")
        #expect(harness.server.counters[drop: reason] == before[drop: reason] + 1, "expected a \(reason) drop")
        #expect(harness.server.counters.totalDrops == before.totalDrops + 1)
    }

    @Test(arguments: [1, 100, 1077, 1079, 1300])
    func requestOfWrongLength(length: Int) throws {
        let harness = try TransportHarness()
        var bytes = request(for: try harness.makeToken(clientID: 1))
        bytes = Array(bytes.prefix(length)) + [UInt8](repeating: 0, count: max(0, length - bytes.count))
        expectSilentDrop(harness, bytes, from: attacker, reason: length == 1 ? .tooShort : .requestWrongLength)
    }

    @Test func requestWithWrongVersion() throws {
        let harness = try TransportHarness()
        var bytes = request(for: try harness.makeToken(clientID: 1))
        bytes[12] = UInt8(ascii: "1")  // "NETCODE 1.01"
        expectSilentDrop(harness, bytes, from: attacker, reason: .wrongVersion)
    }

    @Test func requestWithWrongProtocolID() throws {
        let harness = try TransportHarness()
        let bytes = request(for: try harness.makeToken(clientID: 1, protocolID: 77))
        expectSilentDrop(harness, bytes, from: attacker, reason: .wrongProtocolID)
    }

    @Test func requestWithExpiredToken() throws {
        let harness = try TransportHarness()
        let bytes = request(for: try harness.makeToken(clientID: 1, expireSeconds: 5))
        harness.time = 5  // the server's wall clock now equals the expiry: expired
        expectSilentDrop(harness, bytes, from: attacker, reason: .tokenExpired)
    }

    @Test func requestSealedWithAnotherKey() throws {
        let harness = try TransportHarness()
        var random = SeededRandomSource(seed: 99)
        let bytes = request(for: try harness.makeToken(clientID: 1, key: SymmetricKey(random: &random)))
        expectSilentDrop(harness, bytes, from: attacker, reason: .tokenDecryptFailed)
    }

    @Test(arguments: [14, 22, 30, 54, 500, 1077])
    func requestWithTamperedByte(offset: Int) throws {
        let harness = try TransportHarness()
        var bytes = request(for: try harness.makeToken(clientID: 1))
        bytes[offset] ^= 0x01
        let reason: DropReason = offset == 14 ? .wrongProtocolID : (offset == 22 ? .tokenDecryptFailed : .tokenDecryptFailed)
        expectSilentDrop(harness, bytes, from: attacker, reason: reason)
    }

    @Test func requestNamingAnotherServer() throws {
        let harness = try TransportHarness()
        let bytes = request(for: try harness.makeToken(clientID: 1, addresses: [NetAddress(ipv4: 127, 0, 0, 1, port: 40001)]))
        expectSilentDrop(harness, bytes, from: attacker, reason: .serverAddressNotInToken)
    }

    @Test func publicAddressConfigurationAcceptsTokensForTheRealAddress() throws {
        // A server bound to 0.0.0.0 that is told its public address accepts tokens naming it.
        let publicAddress = NetAddress(ipv4: 192, 0, 2, 10, port: 40000)
        let harness = try TransportHarness(serverAddresses: [NetAddress(ipv4: 0, 0, 0, 0, port: 40000), publicAddress])
        let bytes = request(for: try harness.makeToken(clientID: 1, addresses: [publicAddress]))
        harness.server.handle(bytes, from: attacker, now: harness.now, sink: &harness.serverSink)
        #expect(harness.serverSink.transmissions.count == 1)
    }

    @Test func clientIDAlreadyConnected() throws {
        let harness = try TransportHarness()
        harness.addClient(token: try harness.makeToken(clientID: 7))
        #expect(harness.run(forAtMost: 1) { harness.state(0) == .connected })
        expectSilentDrop(harness, request(for: try harness.makeToken(clientID: 7)), from: attacker, reason: .clientIDAlreadyConnected)
    }

    @Test func addressAlreadyConnected() throws {
        let harness = try TransportHarness()
        harness.addClient(token: try harness.makeToken(clientID: 7))
        #expect(harness.run(forAtMost: 1) { harness.state(0) == .connected })
        let connectedAddress = harness.clients[0].address
        expectSilentDrop(harness, request(for: try harness.makeToken(clientID: 8)), from: connectedAddress, reason: .addressAlreadyConnected)
    }

    @Test func tokenReusedFromAnotherAddress() throws {
        let harness = try TransportHarness()
        let bytes = request(for: try harness.makeToken(clientID: 1))
        harness.server.handle(bytes, from: NetAddress(ipv4: 10, 0, 0, 1, port: 1), now: harness.now, sink: &harness.serverSink)
        #expect(harness.serverSink.drain().transmissions.count == 1)
        // The same address may resend (the client does, at 10 Hz) ...
        harness.server.handle(bytes, from: NetAddress(ipv4: 10, 0, 0, 1, port: 1), now: harness.now, sink: &harness.serverSink)
        #expect(harness.serverSink.drain().transmissions.count == 1)
        // ... another may not.
        expectSilentDrop(harness, bytes, from: attacker, reason: .tokenReusedFromOtherAddress)
    }

    @Test func serverFullDeniesAndTheClientSeesIt() throws {
        let harness = try TransportHarness(maxClients: 2)
        for clientID in UInt64(1)...3 { harness.addClient(token: try harness.makeToken(clientID: clientID)) }
        #expect(harness.run(forAtMost: 2) { harness.state(2) == .denied })
        #expect(harness.state(0) == .connected && harness.state(1) == .connected)
        #expect(harness.server.counters.deniedSent >= 1)
        // Denied is 25 bytes: far less than the 1078-byte request that triggered it.
        #expect(harness.server.connectedClientCount == 2)
    }

    @Test func forgedChallengeTokenIsDropped() throws {
        let harness = try TransportHarness()
        let token = try harness.makeToken(clientID: 1)
        let address = NetAddress(ipv4: 10, 0, 0, 1, port: 1)
        harness.server.handle(request(for: token), from: address, now: harness.now, sink: &harness.serverSink)
        #expect(harness.serverSink.drain().transmissions.count == 1)
        // The attacker holds the token's keys but not the server's challenge key: it makes up a
        // challenge token and sends a well-formed, correctly encrypted response.
        let codec = PacketCodec(protocolID: TransportHarness.protocolID)
        let forged = [UInt8](repeating: 0x5a, count: 8 + Netcode.challengeTokenBytes)
        let response = codec.write(type: .connectionResponse, sequence: 1, body: forged, key: token.clientToServerKey)
        expectSilentDrop(harness, response, from: address, reason: .challengeTokenInvalid)
        #expect(harness.server.connectedClientCount == 0)
    }

    @Test func responseFromAnAddressWithoutAMappingIsDropped() throws {
        let harness = try TransportHarness()
        let token = try harness.makeToken(clientID: 1)
        let codec = PacketCodec(protocolID: TransportHarness.protocolID)
        let response = codec.write(type: .connectionResponse, sequence: 1, body: [UInt8](repeating: 0, count: 308), key: token.clientToServerKey)
        expectSilentDrop(harness, response, from: attacker, reason: .unknownAddress)
    }

    @Test func replayedAndOldPacketsAreDropped() throws {
        let harness = try TransportHarness()
        let token = try harness.makeToken(clientID: 1)
        let address = harness.clients.isEmpty ? NetAddress(ipv4: 10, 0, 0, 1, port: 5000) : harness.clients[0].address
        harness.addClient(token: token, address: address)
        #expect(harness.run(forAtMost: 1) { harness.state(0) == .connected })
        let codec = PacketCodec(protocolID: TransportHarness.protocolID)
        let payload = codec.write(type: .payload, sequence: 1000, body: [1], key: token.clientToServerKey)
        harness.inject(payload, from: address)
        #expect(harness.serverEvents.last == .serverPayload(clientIndex: 0, bytes: [1]))
        expectSilentDrop(harness, payload, from: address, reason: .replayed)
        // Exactly at the window's lower edge: too old. One above: still fresh.
        expectSilentDrop(harness, codec.write(type: .payload, sequence: 1000 - 256, body: [2], key: token.clientToServerKey), from: address, reason: .replayed)
        harness.inject(codec.write(type: .payload, sequence: 1000 - 255, body: [3], key: token.clientToServerKey), from: address)
        #expect(harness.serverEvents.last == .serverPayload(clientIndex: 0, bytes: [3]))
        // A forged packet far ahead does not move the window.
        var forged = codec.write(type: .payload, sequence: 5000, body: [4], key: token.clientToServerKey)
        forged[forged.count - 1] ^= 1
        expectSilentDrop(harness, forged, from: address, reason: .decryptFailed)
        harness.inject(codec.write(type: .payload, sequence: 1001, body: [5], key: token.clientToServerKey), from: address)
        #expect(harness.serverEvents.last == .serverPayload(clientIndex: 0, bytes: [5]))
    }

    @Test func sequencesNearTheTopOfTheRangeWork() throws {
        let harness = try TransportHarness()
        let token = try harness.makeToken(clientID: 1)
        let address = NetAddress(ipv4: 10, 0, 0, 1, port: 5000)
        harness.addClient(token: token, address: address)
        #expect(harness.run(forAtMost: 1) { harness.state(0) == .connected })
        let codec = PacketCodec(protocolID: TransportHarness.protocolID)
        for (sequence, body) in [(UInt64.max - 1, UInt8(1)), (UInt64.max, 2), (UInt64.max - 200, 3)] {
            harness.inject(codec.write(type: .payload, sequence: sequence, body: [body], key: token.clientToServerKey), from: address)
            #expect(harness.serverEvents.last == .serverPayload(clientIndex: 0, bytes: [body]))
        }
        expectSilentDrop(harness, codec.write(type: .payload, sequence: UInt64.max, body: [9], key: token.clientToServerKey), from: address, reason: .replayed)
        expectSilentDrop(harness, codec.write(type: .payload, sequence: UInt64.max - 256, body: [9], key: token.clientToServerKey), from: address, reason: .replayed)
        expectSilentDrop(harness, codec.write(type: .payload, sequence: 0, body: [9], key: token.clientToServerKey), from: address, reason: .replayed)
    }
}
