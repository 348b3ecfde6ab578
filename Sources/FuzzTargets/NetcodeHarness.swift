import NetProtocol

/// netcode datagrams into a server and into a connecting client, set up as in the vectors'
/// handshake transcript.
enum NetcodeHarness {
    // The transcript's inputs are fixed, valid constants; a failure to parse them is a bug in
    // this file, found by the first test run.
    static let privateKey = SymmetricKey(hex: TranscriptInputs.privateKeyHex)
    static let serverAddress = NetAddress(TranscriptInputs.serverAddress) ?? NetAddress(ipv4: 127, 0, 0, 1, port: 40000)
    static let clientAddress = NetAddress(TranscriptInputs.clientAddress) ?? NetAddress(ipv4: 127, 0, 0, 1, port: 50000)
    static let token = try? ConnectToken(decoding: Hex.decode(TranscriptInputs.connectTokenHex) ?? [])
    /// A second peer, so that frames can come from an address with no mapping too.
    static let strangerAddress = NetAddress(ipv4: 127, 0, 0, 9, port: 50001)

    static func server(_ input: FuzzInput) {
        guard let privateKey else { return }
        var random = ScriptedRandomSource(bytes: Hex.decode(TranscriptInputs.challengeKeyHex) ?? [0xC0])
        let configuration = ServerConfiguration(
            protocolID: TranscriptInputs.protocolID, privateKey: privateKey, serverAddresses: [serverAddress],
            maxClients: TranscriptInputs.maxClients, maxEncryptionMappings: 16, tokenHistoryEntries: 32)
        guard let server = try? ServerEndpoint(configuration: configuration, random: &random, now: instant(0)) else { return }
        var sink = DiscardingServerSink()
        input.forEachFrame { frame in
            let now = instant(frame.time)
            // A frame whose gap byte is odd comes from another address.
            let from = Int(frame.time * 64) % 2 == 0 ? clientAddress : strangerAddress
            server.handle(frame.bytes, from: from, now: now, sink: &sink)
            server.update(now: now, sink: &sink)
            // Answer whoever is connected, so payload and keep-alive paths stay live.
            if server.connectedClientCount > 0, !frame.bytes.isEmpty {
                let payload = UnsafeRawBufferPointer(rebasing: frame.bytes[0..<min(frame.bytes.count, Netcode.maxPayloadBytes)])
                server.send(payload, to: 0, now: now, sink: &sink)
            }
        }
    }

    static func client(_ input: FuzzInput) {
        guard let token else { return }
        let client = ClientEndpoint()
        var sink = DiscardingClientSink()
        client.connect(token: token, now: .virtual(0), sink: &sink)
        input.forEachFrame { frame in
            let now = NetInstant.virtual(frame.time)
            let from = Int(frame.time * 64) % 2 == 0 ? serverAddress : strangerAddress
            client.handle(frame.bytes, from: from, now: now, sink: &sink)
            client.update(now: now, sink: &sink)
            if client.state == .connected, !frame.bytes.isEmpty {
                client.send(Array(frame.bytes.prefix(Netcode.maxPayloadBytes)), now: now, sink: &sink)
            }
        }
    }

    static func instant(_ seconds: Double) -> NetInstant {
        NetInstant(seconds: seconds, unixSeconds: TranscriptInputs.wallClockUnix + UInt64(seconds))
    }

    /// The transcript's datagrams in each direction, at their times.
    static func transcript(_ vectors: [String: Any]?, direction: String) -> [(time: Double, bytes: [UInt8])] {
        let datagrams = ((vectors?["handshake_transcript"] as? [String: Any])?["datagrams"] as? [[String: Any]]) ?? []
        return datagrams.compactMap { datagram in
            guard datagram["direction"] as? String == direction, let time = datagram["time"] as? Double,
                let bytes = (datagram["packet"] as? String).flatMap(Hex.decode)
            else { return nil }
            return (time, bytes)
        }
    }

    /// Single packets from the vectors: requests, encrypted packets of every type, the reader's
    /// edge cases.
    static func vectorPackets(_ vectors: [String: Any]?) -> [[UInt8]] {
        guard let vectors else { return [] }
        var packets = vectors.hexList("connection_request_packet", field: "packet")
        packets += ((vectors["encrypted_packets"] as? [String: Any]).map { $0.hexList("vectors", field: "packet") }) ?? []
        packets += ((vectors["reader_edge_cases"] as? [String: Any]).map { $0.hexList("cases", field: "packet") }) ?? []
        return packets
    }

    static func serverSeeds(vectors: [String: Any]?) -> [[UInt8]] {
        let handshake = FuzzInput.encode(transcript(vectors, direction: "client_to_server"))
        return [handshake] + vectorPackets(vectors).map { FuzzInput.encode([(0, $0)]) }
    }

    static func clientSeeds(vectors: [String: Any]?) -> [[UInt8]] {
        let handshake = FuzzInput.encode(transcript(vectors, direction: "server_to_client"))
        return [handshake] + vectorPackets(vectors).map { FuzzInput.encode([(0.125, $0)]) }
    }
}

/// Public connect tokens and their private part.
enum TokenHarness {
    static func run(_ bytes: [UInt8]) {
        if let token = try? ConnectToken(decoding: bytes), let privateKey = NetcodeHarness.privateKey {
            _ = try? PrivateConnectToken.open(
                sealed: token.sealedPrivate, protocolID: token.protocolID, expireTimestamp: token.expireTimestamp, nonce: token.nonce,
                privateKey: privateKey)
        }
        // The same bytes as a decrypted private part, to reach the parser without the MAC.
        bytes.withUnsafeBytes { raw in _ = try? PrivateConnectToken.read(plaintext: raw) }
    }

    static func seeds(vectors: [String: Any]?) -> [[UInt8]] {
        guard let vectors else { return [] }
        return vectors.hexList("connect_token", field: "token") + vectors.hexList("connect_token_private", field: "plaintext")
    }
}
