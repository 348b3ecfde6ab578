import Foundation
import NetProtocol
import Testing

/// Byte-exact checks against the reference implementation's vectors, both directions.
@Suite struct KnownAnswerTests {
    let vectors: Vectors
    let protocolID: UInt64 = 0x1122_3344_5566_7788

    init() throws { vectors = try Vectors.load() }

    @Test func addressesSerializeAndParse() throws {
        let cases = try vectors.list("addresses")
        #expect(cases.count == 4)
        for entry in cases {
            let text = try entry.string("string")
            let address = try #require(NetAddress(text))
            var out = [UInt8](repeating: 0, count: address.serializedBytes)
            out.withUnsafeMutableBytes { raw in
                var writer = WireWriter(raw)
                address.write(to: &writer)
            }
            #expect(try out == entry.bytes("serialized"), "\(text)")
            let parsed = try entry.bytes("serialized").withUnsafeBytes { raw -> NetAddress? in
                var reader = WireReader(raw)
                return NetAddress.read(from: &reader)
            }
            #expect(parsed == address)
            #expect(try address.port == UInt16(entry.int("port")))
            #expect(address.description == text)
            if let groups = entry["ipv6_groups"] as? [Int] {
                #expect(address.ipv6Groups == groups.map { UInt16($0) })
            }
            if let octets = entry["ipv4"] as? [Int] {
                #expect(address.ipv4Octets == octets.map { UInt8($0) })
            }
        }
    }

    private func privateToken(from inputs: [String: Any]) throws -> PrivateConnectToken {
        PrivateConnectToken(
            clientID: try inputs.u64("client_id"), timeoutSeconds: Int32(try inputs.int("timeout_seconds")),
            serverAddresses: try inputs.addresses("server_addresses"),
            clientToServerKey: try inputs.key("client_to_server_key"),
            serverToClientKey: try inputs.key("server_to_client_key"), userData: try inputs.bytes("user_data"))
    }

    @Test func privateConnectTokensEncryptAndDecrypt() throws {
        let cases = try vectors.list("connect_token_private")
        #expect(cases.count == 3)
        for entry in cases {
            let name = try entry.string("name")
            let inputs = try entry.object("inputs")
            let token = try privateToken(from: inputs)
            let expire = try inputs.u64("expire_timestamp")
            #expect(try token.plaintext == entry.bytes("plaintext"))
            #expect(
                PrivateConnectToken.additionalData(protocolID: try inputs.u64("protocol_id"), expireTimestamp: expire)
                    == (try entry.bytes("additional_data")))
            let key = try inputs.key("private_key")
            let sealed = token.seal(protocolID: protocolID, expireTimestamp: expire, nonce: try inputs.bytes("nonce"), privateKey: key)
            #expect(try sealed == entry.bytes("encrypted"), "\(name)")
            let opened = try PrivateConnectToken.open(
                sealed: try entry.bytes("encrypted"), protocolID: protocolID, expireTimestamp: expire,
                nonce: try inputs.bytes("nonce"), privateKey: key)
            #expect(opened == token)
            // The expiry is bound by the associated data: any other value fails to open.
            #expect(throws: ConnectTokenError.decryptionFailed) {
                try PrivateConnectToken.open(
                    sealed: try entry.bytes("encrypted"), protocolID: protocolID, expireTimestamp: expire + 1,
                    nonce: try inputs.bytes("nonce"), privateKey: key)
            }
        }
    }

    @Test func connectTokensMatchTheReferenceGenerator() throws {
        let privateCases = Dictionary(
            uniqueKeysWithValues: try vectors.list("connect_token_private").map { (try $0.string("name"), $0) })
        for entry in try vectors.list("connect_token") {
            let name = try entry.string("name")
            let inputs = try entry.object("inputs")
            let privateInputs = try #require(privateCases[try entry.string("private_case")]).object("inputs")
            let create = try inputs.u64("create_timestamp")
            let expire = try inputs.u64("expire_timestamp")
            // Our generator draws client-to-server key, server-to-client key, then the nonce.
            var random = ScriptedRandomSource(
                bytes: try privateInputs.bytes("client_to_server_key") + privateInputs.bytes("server_to_client_key")
                    + privateInputs.bytes("nonce"))
            let token = try ConnectToken.generate(
                publicAddresses: try inputs.addresses("public_server_addresses"),
                internalAddresses: try privateInputs.addresses("server_addresses"),
                expireSeconds: Int64(expire - create), timeoutSeconds: Int32(try inputs.int("timeout_seconds")),
                clientID: try privateInputs.u64("client_id"), protocolID: protocolID,
                privateKey: try privateInputs.key("private_key"), userData: try privateInputs.bytes("user_data"),
                nowUnix: create, random: &random)
            let expected = try entry.bytes("token")
            #expect(token.encoded() == expected, "\(name)")
            let decoded = try ConnectToken(decoding: expected)
            #expect(decoded == token)
            #expect(try decoded.timeoutSeconds == Int32(inputs.int("timeout_seconds")))
            #expect(try decoded.serverAddresses == inputs.addresses("public_server_addresses"))
            #expect(try decoded.clientToServerKey.bytes == privateInputs.bytes("client_to_server_key"))
            // Token offsets: the sealed private part sits at 61..<1085, its MAC at 1069..<1085.
            #expect(Array(expected[61..<1085]) == token.sealedPrivate)
            #expect(try Array(expected[37..<61]) == privateInputs.bytes("nonce"))
            let keysOffset = try entry.int("keys_offset")
            #expect(try Array(expected[keysOffset..<keysOffset + 32]) == privateInputs.bytes("client_to_server_key"))
        }
    }

    @Test func clientWritesTheReferenceConnectionRequest() throws {
        let tokens = Dictionary(uniqueKeysWithValues: try vectors.list("connect_token").map { (try $0.string("name"), $0) })
        for entry in try vectors.list("connection_request_packet") {
            let name = try entry.string("name")
            let tokenEntry = try #require(tokens[try entry.string("connect_token_case")])
            let token = try ConnectToken(decoding: try tokenEntry.bytes("token"))
            let client = ClientEndpoint()
            var sink = RecordingSink()
            client.connect(token: token, now: .virtual(0), sink: &sink)
            #expect(try sink.transmissions.first?.bytes == entry.bytes("packet"), "\(name)")
            #expect(try sink.transmissions.first?.to == NetAddress(entry.string("destination")))
        }
    }

    @Test func serverAcceptsTheReferenceConnectionRequests() throws {
        let privateKey = try vectors.section("common").key("private_key")
        let tokens = Dictionary(uniqueKeysWithValues: try vectors.list("connect_token").map { (try $0.string("name"), $0) })
        for entry in try vectors.list("connection_request_packet") {
            let name = try entry.string("name")
            let tokenEntry = try #require(tokens[try entry.string("connect_token_case")])
            let token = try ConnectToken(decoding: try tokenEntry.bytes("token"))
            let privateToken = try PrivateConnectToken.open(
                sealed: token.sealedPrivate, protocolID: protocolID, expireTimestamp: token.expireTimestamp,
                nonce: token.nonce, privateKey: privateKey)
            var random = SeededRandomSource(seed: 1)
            let server = try ServerEndpoint(
                configuration: ServerConfiguration(
                    protocolID: protocolID, privateKey: privateKey, serverAddresses: privateToken.serverAddresses),
                random: &random, now: .virtual(0))
            var sink = RecordingSink()
            let client = try #require(NetAddress("127.0.0.1:50000"))
            server.handle(try entry.bytes("packet"), from: client, now: NetInstant(seconds: 0, unixSeconds: token.createTimestamp), sink: &sink)
            #expect(sink.transmissions.count == 1, "\(name)")
            #expect(sink.transmissions.first?.bytes.count == 333)
            #expect(server.counters.challengesSent == 1)
        }
    }

    @Test func challengeTokensSealAndOpen() throws {
        for entry in try vectors.list("challenge_token") {
            let inputs = try entry.object("inputs")
            let key = try inputs.key("challenge_key")
            let sequence = try inputs.u64("challenge_sequence")
            var buffer = [UInt8](repeating: 0, count: Netcode.challengeTokenBytes)
            try inputs.bytes("user_data").withUnsafeBytes { userData in
                buffer.withUnsafeMutableBytes { out in
                    ChallengeToken.seal(clientID: try! inputs.u64("client_id"), userData: userData, sequence: sequence, key: key, into: out)
                }
            }
            #expect(try buffer == entry.bytes("encrypted"))
            var sealed = try entry.bytes("encrypted")
            let clientID = sealed.withUnsafeMutableBytes { ChallengeToken.open($0, sequence: sequence, key: key) }
            #expect(try clientID == inputs.u64("client_id"))
            #expect(try Array(sealed[0..<ChallengeToken.plaintextBytes]) == Array(entry.bytes("plaintext")[0..<ChallengeToken.plaintextBytes]))
            var tampered = try entry.bytes("encrypted")
            tampered[10] ^= 1
            #expect(tampered.withUnsafeMutableBytes { ChallengeToken.open($0, sequence: sequence, key: key) } == nil)
        }
    }

    @Test func encryptedPacketsAreByteExact() throws {
        let section = try vectors.section("encrypted_packets")
        let key = try section.key("key")
        let codec = PacketCodec(protocolID: try section.u64("protocol_id"))
        let bodies = Dictionary(uniqueKeysWithValues: try section.objects("bodies").map { (try $0.string("variant"), try $0.bytes("body")) })
        let vectorsList = try section.objects("vectors")
        #expect(vectorsList.count == 72)
        for vector in vectorsList {
            let body = try #require(bodies[try vector.string("variant")])
            let type = try #require(PacketType(rawValue: UInt8(try vector.int("type"))))
            let sequence = try vector.u64("sequence")
            let expected = try vector.bytes("packet")
            #expect(codec.write(type: type, sequence: sequence, body: body, key: key) == expected, "\(type) @ \(sequence)")
            #expect(try PacketCodec.sequenceBytes(sequence) == vector.int("sequence_bytes"))
            #expect(try expected[0] == UInt8(vector.int("prefix_byte")))
            var packet = expected
            let opened = packet.withUnsafeMutableBytes { raw -> [UInt8]? in
                guard case .success(let header) = PacketCodec.readHeader(UnsafeRawBufferPointer(raw)),
                    header.type == type, header.sequence == sequence,
                    let length = codec.open(raw, header: header, key: key)
                else { return nil }
                return Array(raw[header.bodyOffset..<header.bodyOffset + length])
            }
            #expect(opened == body, "\(type) @ \(sequence)")
        }
    }

    @Test func replayWindowFollowsTheReferenceScripts() throws {
        for script in try vectors.section("replay_protection").objects("scripts") {
            let scriptName = try script.string("name")
            var window = ReplayProtection()
            for step in try script.objects("steps") {
                let sequence = try step.u64("sequence")
                let reason = try step.string("reason")
                let acceptable = window.isAcceptable(sequence)
                let authentic = try step.bool("authentic")
                let accepted = acceptable && authentic
                if accepted { window.record(sequence) }
                if reason == "accepted_sentinel_quirk" {
                    // The reference marks empty slots with 2^64-1 and so accepts that sequence
                    // twice; we track empty slots apart and reject the duplicate.
                    #expect(!accepted)
                } else {
                    #expect(try accepted == step.bool("accepted"), "\(scriptName) \(sequence) \(reason)")
                }
                #expect(try window.mostRecent == step.u64("most_recent_after"))
            }
        }
    }

    @Test func readerEdgeCases() throws {
        let section = try vectors.section("reader_edge_cases")
        let reader = ReferenceStyleReader(
            key: try section.key("key"), privateKey: try section.key("private_key"), protocolID: try section.u64("protocol_id"))
        let cases = try section.objects("cases")
        #expect(cases.count == 29)
        for entry in cases {
            let name = try entry.string("name")
            let result = reader.read(
                try entry.bytes("packet"), asServer: (try entry.string("reader_role")) == "server",
                unixNow: try entry.u64("current_timestamp"))
            let expected = try entry.bool("expected_accepted")
            #expect((result != nil) == expected, "\(name)")
            if let result, expected {
                #expect(try result.type.rawValue == UInt8(entry.int("expected_type")), "\(name)")
                if let sequence = entry["expected_sequence"] as? String {
                    #expect(result.sequence == UInt64(sequence), "\(name)")
                }
            }
        }
    }

    @Test func serverReproducesTheReferenceHandshakeTranscript() throws {
        let transcript = try vectors.section("handshake_transcript")
        let inputs = try transcript.object("inputs")
        let datagrams = try transcript.objects("datagrams")
        var random = ScriptedRandomSource(bytes: try inputs.bytes("challenge_key"))
        let serverAddress = try #require(NetAddress(try inputs.string("server_address")))
        let clientAddress = try #require(NetAddress(try inputs.string("client_address")))
        let wall = try inputs.u64("wall_clock_unix")
        let server = try ServerEndpoint(
            configuration: ServerConfiguration(
                protocolID: try inputs.u64("protocol_id"), privateKey: try inputs.key("private_key"),
                serverAddresses: [serverAddress], maxClients: try inputs.int("max_clients")),
            random: &random, now: NetInstant(seconds: 0, unixSeconds: wall))
        var sink = RecordingSink()
        var produced: [[UInt8]] = []
        var times = Set(datagrams.compactMap { $0["time"] as? Double })
        times.insert(0.4375)
        for time in times.sorted() {
            let now = NetInstant(seconds: time, unixSeconds: wall)
            for datagram in datagrams where (datagram["time"] as? Double) == time && datagram["direction"] as? String == "client_to_server" {
                server.handle(try datagram.bytes("packet"), from: clientAddress, now: now, sink: &sink)
            }
            server.update(now: now, sink: &sink)
            if time == 0.3125 {
                server.send(try inputs.bytes("server_payload"), to: 0, now: now, sink: &sink)
            }
            produced += sink.drain().transmissions.map(\.bytes)
        }
        let expected = try datagrams.filter { (try $0.string("direction")) == "server_to_client" }.map { try $0.bytes("packet") }
        #expect(produced == expected)
        #expect(server.connectedClientCount == 0)
    }

    @Test func clientReproducesTheReferenceHandshakeTranscript() throws {
        let transcript = try vectors.section("handshake_transcript")
        let inputs = try transcript.object("inputs")
        let datagrams = try transcript.objects("datagrams")
        let tokens = Dictionary(uniqueKeysWithValues: try vectors.list("connect_token").map { (try $0.string("name"), $0) })
        let token = try ConnectToken(decoding: try #require(tokens[try inputs.string("connect_token_case")]).bytes("token"))
        let serverAddress = try #require(NetAddress(try inputs.string("server_address")))
        let client = ClientEndpoint()
        var sink = RecordingSink()
        var produced: [[UInt8]] = []
        client.connect(token: token, now: .virtual(0), sink: &sink)
        // Our client answers a challenge at once, so feed each server datagram at the time the
        // reference client read it (its next update), then run the same calls as the script.
        let schedule: [(Double, [Int])] = [(0.125, [1]), (0.25, [3]), (0.3125, [5]), (0.375, [7])]
        for (time, indices) in schedule {
            let now = NetInstant.virtual(time)
            for index in indices {
                client.handle(try datagrams[index].bytes("packet"), from: serverAddress, now: now, sink: &sink)
            }
            client.update(now: now, sink: &sink)
            if time == 0.3125 { client.send(try inputs.bytes("client_payload"), now: now, sink: &sink) }
            if time == 0.375 { client.disconnect(now: now, sink: &sink) }
        }
        produced = sink.transmissions.map(\.bytes)
        let expected = try datagrams.filter { (try $0.string("direction")) == "client_to_server" }.map { try $0.bytes("packet") }
        #expect(produced == expected)
        #expect(try sink.events.contains(.clientPayload(bytes: inputs.bytes("server_payload"))))
    }
}

/// A packet reader with the reference's rules for one role, composed from the same pieces the
/// endpoints use: request checks and token decryption, header parsing, the role's accepted
/// types, authentication and body sizes.
struct ReferenceStyleReader {
    let key: SymmetricKey
    let privateKey: SymmetricKey
    let protocolID: UInt64

    func read(_ datagram: [UInt8], asServer: Bool, unixNow: UInt64) -> (type: PacketType, sequence: UInt64?)? {
        guard let first = datagram.first else { return nil }
        if first == 0 {
            guard asServer, datagram.count == Netcode.connectionRequestBytes else { return nil }
            guard Array(datagram[1..<14]) == Netcode.versionInfo else { return nil }
            let id = datagram.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 14, as: UInt64.self) }
            let expire = datagram.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 22, as: UInt64.self) }
            guard id == protocolID, expire > unixNow else { return nil }
            guard (try? PrivateConnectToken.open(
                sealed: Array(datagram[54..<1078]), protocolID: id, expireTimestamp: expire,
                nonce: Array(datagram[30..<54]), privateKey: privateKey)) != nil
            else { return nil }
            return (.connectionRequest, nil)
        }
        let codec = PacketCodec(protocolID: protocolID)
        var packet = datagram
        return packet.withUnsafeMutableBytes { raw in
            guard case .success(let header) = PacketCodec.readHeader(UnsafeRawBufferPointer(raw)) else { return nil }
            let allowed: Set<PacketType> = asServer
                ? [.connectionResponse, .keepAlive, .payload, .disconnect]
                : [.connectionDenied, .connectionChallenge, .keepAlive, .payload, .disconnect]
            guard allowed.contains(header.type), let length = codec.open(raw, header: header, key: key),
                PacketCodec.isValidBodyLength(length, for: header.type)
            else { return nil }
            return (header.type, header.sequence)
        }
    }
}
