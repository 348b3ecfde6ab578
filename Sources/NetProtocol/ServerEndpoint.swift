/// The server side of the netcode 1.02 transport, sans-IO.
///
/// Feed it every datagram with ``handle(_:from:now:sink:)`` and call ``update(now:sink:)``
/// regularly (every tick; at least 10 times a second for keep-alives). It hands what it wants to
/// send, and what happened, to the sink you pass; it never reads a clock, opens a socket or logs.
///
/// Security properties, in the order the checks run:
/// - Before a connection exists the server answers only after a token decrypts, and never with
///   more bytes than it received (challenge 333 B for a 1078 B request; keep-alive or denied
///   ≤ 26 B for a 326 B response).
/// - Every encrypted packet passes the replay window before and after authentication.
/// - Malformed input is dropped and counted in ``counters`` by ``DropReason``.
///
/// Not thread-safe: one owner drives it.
public final class ServerEndpoint {
    public let configuration: ServerConfiguration
    public private(set) var counters = TransportCounters()

    private let codec: PacketCodec
    private let challengeKey: SymmetricKey
    private var globalSequence = Netcode.serverGlobalSequenceStart
    private var challengeSequence: UInt64 = 0
    /// Incoming datagrams are copied here and decrypted in place.
    private let receiveBuffer: UnsafeMutableRawBufferPointer
    /// Outgoing packets are built here.
    private let sendBuffer: UnsafeMutableRawBufferPointer
    /// Private-token decryption and challenge tokens.
    private let tokenScratch: UnsafeMutableRawBufferPointer

    private var slots: [Slot]
    private var freeSlots: [Int]
    /// Dense list of occupied slot indices, so update() touches only live connections.
    private var connectedSlots: [Int]
    private var slotByAddress: [NetAddress: Int]
    private var slotByClientID: [UInt64: Int]
    private var pendingMappings: [NetAddress: PendingMapping]
    private var expiredMappings: [NetAddress] = []
    private var lastMappingSweep: Double
    private var tokenHistory: TokenHistory

    struct Slot {
        var occupied = false
        var clientID: UInt64 = 0
        var address = NetAddress(ipv4: 0, 0, 0, 0, port: 0)
        var sendKey: SymmetricKey?
        var receiveKey: SymmetricKey?
        var sequence: UInt64 = 0
        var lastSendTime: Double = 0
        var lastReceiveTime: Double = 0
        var timeoutSeconds: Int32 = 0
        var confirmed = false
        var listPosition = 0
        var replay = ReplayProtection()
        var userData: [UInt8] = []
        /// A stream client: its payloads arrive and leave as frames of a stream the driver
        /// owns (no address in `slotByAddress`, no keys, no keep-alives or disconnect packets).
        var isStream = false
    }

    /// Keys for an address that has sent a valid request but not yet a valid response.
    struct PendingMapping {
        var receiveKey: SymmetricKey
        var sendKey: SymmetricKey
        var timeoutSeconds: Int32
        var lastAccess: Double
        var expiresAt: Double

        func isExpired(at now: Double) -> Bool {
            if timeoutSeconds > 0 && lastAccess + Double(timeoutSeconds) < now { return true }
            return expiresAt < now
        }
    }

    /// Starts a server. A fresh challenge key comes from `random`, and the global sequence is
    /// seeded at 2^63, as every start must.
    public init(
        configuration: ServerConfiguration, random: inout some SecureRandomSource, now: NetInstant
    ) throws(ServerConfiguration.Invalid) {
        try configuration.validate()
        Sodium.ensureInitialized()
        self.configuration = configuration
        codec = PacketCodec(protocolID: configuration.protocolID)
        challengeKey = SymmetricKey(random: &random)
        receiveBuffer = .allocate(byteCount: Netcode.maxPacketBytes, alignment: 16)
        sendBuffer = .allocate(byteCount: Netcode.maxPacketBytes, alignment: 16)
        tokenScratch = .allocate(byteCount: Netcode.connectTokenPrivateBytes + 64, alignment: 16)
        let maxClients = configuration.maxClients
        slots = [Slot](repeating: Slot(), count: maxClients)
        freeSlots = Array((0..<maxClients).reversed())
        connectedSlots = []
        connectedSlots.reserveCapacity(maxClients)
        slotByAddress = [:]
        slotByAddress.reserveCapacity(maxClients)
        slotByClientID = [:]
        slotByClientID.reserveCapacity(maxClients)
        pendingMappings = [:]
        pendingMappings.reserveCapacity(configuration.maxEncryptionMappings)
        expiredMappings.reserveCapacity(64)
        tokenHistory = TokenHistory(capacity: configuration.tokenHistoryEntries)
        lastMappingSweep = now.seconds
        // Each slot gets its own replay storage up front so that connecting never allocates it
        // (and slots never share copy-on-write storage).
        for index in 0..<maxClients { slots[index].replay = ReplayProtection() }
    }

    deinit {
        receiveBuffer.deallocate()
        sendBuffer.deallocate()
        Sodium.wipe(tokenScratch.baseAddress!, count: tokenScratch.count)
        tokenScratch.deallocate()
    }

    // MARK: - Queries

    public var maxClients: Int { configuration.maxClients }
    public var connectedClientCount: Int { connectedSlots.count }
    public var pendingConnectionCount: Int { pendingMappings.count }
    /// Indices of connected clients, in no particular order.
    public var connectedClientIndices: [Int] { connectedSlots }

    public func isConnected(_ clientIndex: Int) -> Bool {
        slots.indices.contains(clientIndex) && slots[clientIndex].occupied
    }

    public func clientID(of clientIndex: Int) -> UInt64? {
        isConnected(clientIndex) ? slots[clientIndex].clientID : nil
    }

    public func address(of clientIndex: Int) -> NetAddress? {
        isConnected(clientIndex) ? slots[clientIndex].address : nil
    }

    /// The 256 bytes of user data from the client's connect token.
    public func userData(of clientIndex: Int) -> [UInt8]? {
        isConnected(clientIndex) ? slots[clientIndex].userData : nil
    }

    public func clientIndex(of address: NetAddress) -> Int? { slotByAddress[address] }

    // MARK: - Input

    /// Processes one datagram from `address`.
    public func handle<Sink: ServerSink>(
        _ datagram: UnsafeRawBufferPointer, from address: NetAddress, now: NetInstant, sink: inout Sink
    ) {
        counters.datagramsReceived &+= 1
        counters.bytesReceived &+= UInt64(datagram.count)
        guard datagram.count > 1 else { return counters.countDrop(.tooShort) }
        guard datagram.count <= Netcode.maxPacketBytes else { return counters.countDrop(.tooLong) }
        if datagram[0] == 0 {
            return handleConnectionRequest(datagram, from: address, now: now, sink: &sink)
        }
        let header: PacketCodec.Header
        switch PacketCodec.readHeader(datagram) {
        case .success(let value): header = value
        case .failure(let reason): return counters.countDrop(reason)
        }
        let packet = UnsafeMutableRawBufferPointer(rebasing: receiveBuffer[0..<datagram.count])
        packet.copyMemory(from: datagram)
        if let clientIndex = slotByAddress[address] {
            handleConnectedPacket(packet, header: header, clientIndex: clientIndex, now: now, sink: &sink)
        } else if header.type == .connectionResponse {
            handleConnectionResponse(packet, header: header, from: address, now: now, sink: &sink)
        } else if header.type == .connectionDenied || header.type == .connectionChallenge {
            counters.countDrop(.packetTypeNotAccepted)
        } else {
            counters.countDrop(.unknownAddress)
        }
    }

    /// Array convenience for tests and tools.
    public func handle<Sink: ServerSink>(_ datagram: [UInt8], from address: NetAddress, now: NetInstant, sink: inout Sink) {
        datagram.withUnsafeBytes { handle($0, from: address, now: now, sink: &sink) }
    }

    private func handleConnectionRequest<Sink: ServerSink>(
        _ datagram: UnsafeRawBufferPointer, from address: NetAddress, now: NetInstant, sink: inout Sink
    ) {
        guard datagram.count == Netcode.connectionRequestBytes else { return counters.countDrop(.requestWrongLength) }
        var reader = WireReader(datagram, offset: 1)
        guard let version = reader.readBytes(Netcode.versionInfoBytes), version.elementsEqual(Netcode.versionInfo) else {
            return counters.countDrop(.wrongVersion)
        }
        guard let protocolID = reader.readUInt64(), protocolID == configuration.protocolID else {
            return counters.countDrop(.wrongProtocolID)
        }
        guard let expire = reader.readUInt64(), expire > now.unixSeconds else { return counters.countDrop(.tokenExpired) }
        guard let nonce = reader.readBytes(Netcode.connectTokenNonceBytes),
            let sealed = reader.readBytes(Netcode.connectTokenPrivateBytes)
        else { return counters.countDrop(.requestWrongLength) }
        let token: PrivateConnectToken
        do {
            token = try PrivateConnectToken.open(
                sealed: sealed, protocolID: protocolID, expireTimestamp: expire, nonce: nonce,
                privateKey: configuration.privateKey, scratch: tokenScratch)
        } catch .decryptionFailed {
            return counters.countDrop(.tokenDecryptFailed)
        } catch {
            return counters.countDrop(.tokenInvalid)
        }
        guard token.serverAddresses.contains(where: configuration.serverAddresses.contains) else {
            return counters.countDrop(.serverAddressNotInToken)
        }
        guard slotByAddress[address] == nil else { return counters.countDrop(.addressAlreadyConnected) }
        guard slotByClientID[token.clientID] == nil else { return counters.countDrop(.clientIDAlreadyConnected) }
        let macOffset = Netcode.connectTokenPrivateBytes - Sodium.macBytes
        let mac = TokenHistory.MAC(
            first: sealed.loadUnaligned(fromByteOffset: macOffset, as: UInt64.self),
            second: sealed.loadUnaligned(fromByteOffset: macOffset + 8, as: UInt64.self))
        guard tokenHistory.admit(mac, from: address) else { return counters.countDrop(.tokenReusedFromOtherAddress) }
        if connectedSlots.count >= configuration.maxClients {
            return sendDenied(to: address, key: token.serverToClientKey, sink: &sink)
        }
        guard addPendingMapping(token: token, for: address, now: now.seconds) else {
            return counters.countDrop(.encryptionMappingsFull)
        }
        sendChallenge(to: address, token: token, sink: &sink)
    }

    private func addPendingMapping(token: PrivateConnectToken, for address: NetAddress, now: Double) -> Bool {
        let lifetime = token.timeoutSeconds > 0 ? Double(token.timeoutSeconds) : configuration.pendingMappingFallbackSeconds
        let mapping = PendingMapping(
            receiveKey: token.clientToServerKey, sendKey: token.serverToClientKey,
            timeoutSeconds: token.timeoutSeconds, lastAccess: now, expiresAt: now + lifetime)
        if pendingMappings[address] == nil && pendingMappings.count >= configuration.maxEncryptionMappings {
            sweepPendingMappings(now: now)
            guard pendingMappings.count < configuration.maxEncryptionMappings else { return false }
        }
        pendingMappings[address] = mapping
        return true
    }

    private func sendChallenge<Sink: ServerSink>(to address: NetAddress, token: PrivateConnectToken, sink: inout Sink) {
        let sequence = globalSequence
        globalSequence &+= 1
        let bodyOffset = PacketCodec.bodyOffset(sequence: sequence)
        var writer = WireWriter(sendBuffer, offset: bodyOffset)
        writer.write(challengeSequence)
        let tokenArea = UnsafeMutableRawBufferPointer(
            rebasing: sendBuffer[writer.offset..<writer.offset + Netcode.challengeTokenBytes])
        token.userData.withUnsafeBytes { userData in
            ChallengeToken.seal(
                clientID: token.clientID, userData: userData, sequence: challengeSequence, key: challengeKey,
                into: tokenArea)
        }
        challengeSequence &+= 1
        let length = codec.seal(
            sendBuffer, type: .connectionChallenge, sequence: sequence, bodyLength: 8 + Netcode.challengeTokenBytes,
            key: token.serverToClientKey)
        counters.challengesSent &+= 1
        transmit(length: length, to: address, sink: &sink)
    }

    private func sendDenied<Sink: ServerSink>(to address: NetAddress, key: SymmetricKey, sink: inout Sink) {
        let sequence = globalSequence
        globalSequence &+= 1
        let length = codec.seal(sendBuffer, type: .connectionDenied, sequence: sequence, bodyLength: 0, key: key)
        counters.deniedSent &+= 1
        transmit(length: length, to: address, sink: &sink)
    }

    private func handleConnectionResponse<Sink: ServerSink>(
        _ packet: UnsafeMutableRawBufferPointer, header: PacketCodec.Header, from address: NetAddress,
        now: NetInstant, sink: inout Sink
    ) {
        guard let mapping = pendingMappings[address] else { return counters.countDrop(.unknownAddress) }
        if mapping.isExpired(at: now.seconds) {
            pendingMappings.removeValue(forKey: address)
            return counters.countDrop(.unknownAddress)
        }
        guard let bodyLength = codec.open(packet, header: header, key: mapping.receiveKey) else {
            return counters.countDrop(.decryptFailed)
        }
        guard PacketCodec.isValidBodyLength(bodyLength, for: .connectionResponse) else {
            return counters.countDrop(.wrongBodyLength)
        }
        pendingMappings[address]?.lastAccess = now.seconds
        let body = header.bodyOffset
        let challengeSequence = packet.loadUnaligned(fromByteOffset: body, as: UInt64.self).littleEndian
        let tokenBytes = UnsafeMutableRawBufferPointer(
            rebasing: packet[(body + 8)..<(body + 8 + Netcode.challengeTokenBytes)])
        guard let clientID = ChallengeToken.open(tokenBytes, sequence: challengeSequence, key: challengeKey) else {
            return counters.countDrop(.challengeTokenInvalid)
        }
        guard slotByClientID[clientID] == nil else { return counters.countDrop(.clientIDAlreadyConnected) }
        guard let clientIndex = freeSlots.popLast() else {
            return sendDenied(to: address, key: mapping.sendKey, sink: &sink)
        }
        pendingMappings.removeValue(forKey: address)
        slots[clientIndex].occupied = true
        slots[clientIndex].clientID = clientID
        slots[clientIndex].address = address
        slots[clientIndex].sendKey = mapping.sendKey
        slots[clientIndex].receiveKey = mapping.receiveKey
        slots[clientIndex].sequence = 0
        slots[clientIndex].lastSendTime = now.seconds
        slots[clientIndex].lastReceiveTime = now.seconds
        slots[clientIndex].timeoutSeconds = mapping.timeoutSeconds
        slots[clientIndex].confirmed = false
        slots[clientIndex].replay.reset()
        slots[clientIndex].userData = Array(UnsafeRawBufferPointer(rebasing: tokenBytes[8..<(8 + Netcode.userDataBytes)]))
        slots[clientIndex].listPosition = connectedSlots.count
        connectedSlots.append(clientIndex)
        slotByAddress[address] = clientIndex
        slotByClientID[clientID] = clientIndex
        counters.connects &+= 1
        sendKeepAlive(clientIndex: clientIndex, now: now.seconds, sink: &sink)
        sink.serverEvent(.connected(clientIndex: clientIndex, clientID: clientID, address: address))
    }

    private func handleConnectedPacket<Sink: ServerSink>(
        _ packet: UnsafeMutableRawBufferPointer, header: PacketCodec.Header, clientIndex: Int, now: NetInstant,
        sink: inout Sink
    ) {
        switch header.type {
        case .keepAlive, .payload, .disconnect: break
        default: return counters.countDrop(.packetTypeNotAccepted)
        }
        guard slots[clientIndex].replay.isAcceptable(header.sequence) else { return counters.countDrop(.replayed) }
        guard let receiveKey = slots[clientIndex].receiveKey,
            let bodyLength = codec.open(packet, header: header, key: receiveKey)
        else { return counters.countDrop(.decryptFailed) }
        slots[clientIndex].replay.record(header.sequence)
        guard PacketCodec.isValidBodyLength(bodyLength, for: header.type) else {
            return counters.countDrop(.wrongBodyLength)
        }
        slots[clientIndex].lastReceiveTime = now.seconds
        switch header.type {
        case .keepAlive:
            slots[clientIndex].confirmed = true
        case .payload:
            slots[clientIndex].confirmed = true
            counters.payloadsReceived &+= 1
            let body = UnsafeRawBufferPointer(rebasing: packet[header.bodyOffset..<(header.bodyOffset + bodyLength)])
            sink.serverEvent(.payload(clientIndex: clientIndex, bytes: body))
        case .disconnect:
            release(clientIndex, reason: .peerDisconnected, sink: &sink)
        default:
            break
        }
    }

    // MARK: - Output

    /// Sends `payload` (1...1200 bytes) to a connected client. Returns false if the slot is not
    /// connected. An unconfirmed client gets a keep-alive first, as the standard asks, so it
    /// learns its slot even if it has not yet heard the first one.
    @discardableResult
    public func send<Sink: ServerSink>(
        _ payload: UnsafeRawBufferPointer, to clientIndex: Int, now: NetInstant, sink: inout Sink
    ) -> Bool {
        precondition((1...Netcode.maxPayloadBytes).contains(payload.count), "payload must be 1...1200 bytes")
        guard isConnected(clientIndex) else { return false }
        if slots[clientIndex].isStream { return sendStream(payload, to: clientIndex, now: now, sink: &sink) }
        guard let key = slots[clientIndex].sendKey else { return false }
        if !slots[clientIndex].confirmed { sendKeepAlive(clientIndex: clientIndex, now: now.seconds, sink: &sink) }
        let sequence = nextSequence(clientIndex)
        let offset = PacketCodec.bodyOffset(sequence: sequence)
        UnsafeMutableRawBufferPointer(rebasing: sendBuffer[offset..<(offset + payload.count)]).copyMemory(from: payload)
        let length = codec.seal(sendBuffer, type: .payload, sequence: sequence, bodyLength: payload.count, key: key)
        slots[clientIndex].lastSendTime = now.seconds
        counters.payloadsSent &+= 1
        transmit(length: length, to: slots[clientIndex].address, sink: &sink)
        return true
    }

    @discardableResult
    public func send<Sink: ServerSink>(_ payload: [UInt8], to clientIndex: Int, now: NetInstant, sink: inout Sink) -> Bool {
        payload.withUnsafeBytes { send($0, to: clientIndex, now: now, sink: &sink) }
    }

    /// Advances timers: times out silent clients, sends keep-alives, forgets stale handshakes.
    public func update<Sink: ServerSink>(now: NetInstant, sink: inout Sink) {
        let keepAliveInterval = 1.0 / Netcode.packetSendRate
        var position = connectedSlots.count - 1
        // Walk backwards: releasing swaps the last entry into the hole, which is already visited.
        while position >= 0 {
            let clientIndex = connectedSlots[position]
            let timeout = slots[clientIndex].timeoutSeconds
            if timeout > 0 && slots[clientIndex].lastReceiveTime + Double(timeout) <= now.seconds {
                counters.timeouts &+= 1
                release(clientIndex, reason: .timedOut, sink: &sink)
            } else if !slots[clientIndex].isStream && slots[clientIndex].lastSendTime + keepAliveInterval <= now.seconds {
                sendKeepAlive(clientIndex: clientIndex, now: now.seconds, sink: &sink)
            }
            position -= 1
        }
        if now.seconds - lastMappingSweep >= 1.0 { sweepPendingMappings(now: now.seconds) }
    }

    /// Disconnects one client: sends the redundant disconnect packets, frees the slot.
    public func disconnect<Sink: ServerSink>(
        _ clientIndex: Int, reason: DisconnectReason = .localDisconnect, now: NetInstant, sink: inout Sink
    ) {
        guard isConnected(clientIndex) else { return }
        // A stream client's driver closes its stream when it hears of the release.
        if slots[clientIndex].isStream { return release(clientIndex, reason: reason, sink: &sink) }
        guard let key = slots[clientIndex].sendKey else { return }
        for _ in 0..<Netcode.disconnectPacketCount {
            let sequence = nextSequence(clientIndex)
            let length = codec.seal(sendBuffer, type: .disconnect, sequence: sequence, bodyLength: 0, key: key)
            transmit(length: length, to: slots[clientIndex].address, sink: &sink)
        }
        release(clientIndex, reason: reason, sink: &sink)
    }

    /// Disconnects everyone, as on shutdown.
    public func disconnectAll<Sink: ServerSink>(now: NetInstant, sink: inout Sink) {
        while let clientIndex = connectedSlots.last {
            disconnect(clientIndex, reason: .serverShutdown, now: now, sink: &sink)
        }
    }

    // MARK: - Stream clients

    /// True if `clientIndex` is a connected stream client.
    public func isStream(_ clientIndex: Int) -> Bool { isConnected(clientIndex) && slots[clientIndex].isStream }

    /// Admits a stream (WebSocket) client with the whole 2048-byte connect token it presents,
    /// and returns its client index; the sink hears `.connected` as for a UDP client. The token
    /// passes the checks a UDP connection request's private part passes (protocol id, expiry,
    /// this server's key, this server's address, client id not connected, a free slot) and one
    /// more: it must never have been used, by either transport. The client-to-server and
    /// server-to-client keys go unused: the stream's own transport (TLS when the driver has it)
    /// carries the payloads.
    public func admitStream<Sink: ServerSink>(
        connectToken: UnsafeRawBufferPointer, peer: NetAddress, now: NetInstant, sink: inout Sink
    ) -> Result<Int, StreamRefusal> {
        let refused: StreamRefusal
        switch openStreamToken(connectToken, now: now) {
        case .success(let admitted):
            let (token, mac) = admitted
            // Spent first, as a request's token is: a refused stream cannot retry it either.
            if !tokenHistory.admitOnce(mac) {
                refused = .tokenAlreadyUsed
            } else if slotByClientID[token.clientID] != nil {
                refused = .clientIDAlreadyConnected
            } else if let clientIndex = freeSlots.popLast() {
                occupyStream(clientIndex, token: token, peer: peer, now: now.seconds)
                sink.serverEvent(.connected(clientIndex: clientIndex, clientID: token.clientID, address: peer))
                return .success(clientIndex)
            } else {
                refused = .serverFull
            }
        case .failure(let reason):
            refused = reason
        }
        counters.countRefusal(refused)
        return .failure(refused)
    }

    /// One payload from a stream client (1...1200 bytes; the driver refuses larger frames):
    /// counted and handed to the sink as a UDP client's payload is, and it keeps the client
    /// from timing out.
    public func receiveStream<Sink: ServerSink>(_ payload: UnsafeRawBufferPointer, from clientIndex: Int, now: NetInstant, sink: inout Sink) {
        guard isStream(clientIndex), (1...Netcode.maxPayloadBytes).contains(payload.count) else { return }
        counters.payloadsReceived &+= 1
        counters.bytesReceived &+= UInt64(payload.count)
        slots[clientIndex].lastReceiveTime = now.seconds
        sink.serverEvent(.payload(clientIndex: clientIndex, bytes: payload))
    }

    private func sendStream<Sink: ServerSink>(_ payload: UnsafeRawBufferPointer, to clientIndex: Int, now: NetInstant, sink: inout Sink) -> Bool {
        slots[clientIndex].lastSendTime = now.seconds
        counters.payloadsSent &+= 1
        counters.bytesSent &+= UInt64(payload.count)
        sink.transmit(payload, toStream: clientIndex)
        return true
    }

    /// Parses the public token and opens its private part, as a connection request's.
    private func openStreamToken(_ bytes: UnsafeRawBufferPointer, now: NetInstant) -> Result<(PrivateConnectToken, TokenHistory.MAC), StreamRefusal> {
        guard bytes.count == Netcode.connectTokenBytes else { return .failure(.malformedToken) }
        var reader = WireReader(bytes)
        guard let version = reader.readBytes(Netcode.versionInfoBytes), version.elementsEqual(Netcode.versionInfo),
            let protocolID = reader.readUInt64(), protocolID == configuration.protocolID,
            reader.readUInt64() != nil, let expire = reader.readUInt64(),
            let nonce = reader.readBytes(Netcode.connectTokenNonceBytes),
            let sealed = reader.readBytes(Netcode.connectTokenPrivateBytes)
        else { return .failure(.malformedToken) }
        // The expiry is authenticated: it is the private part's additional data.
        guard expire > now.unixSeconds else { return .failure(.tokenExpired) }
        let token: PrivateConnectToken
        do {
            token = try PrivateConnectToken.open(
                sealed: sealed, protocolID: protocolID, expireTimestamp: expire, nonce: nonce,
                privateKey: configuration.privateKey, scratch: tokenScratch)
        } catch {
            return .failure(.tokenInvalid)
        }
        guard token.serverAddresses.contains(where: configuration.serverAddresses.contains) else {
            return .failure(.serverAddressNotInToken)
        }
        let macOffset = Netcode.connectTokenPrivateBytes - Sodium.macBytes
        let mac = TokenHistory.MAC(
            first: sealed.loadUnaligned(fromByteOffset: macOffset, as: UInt64.self),
            second: sealed.loadUnaligned(fromByteOffset: macOffset + 8, as: UInt64.self))
        return .success((token, mac))
    }

    private func occupyStream(_ clientIndex: Int, token: PrivateConnectToken, peer: NetAddress, now: Double) {
        slots[clientIndex].occupied = true
        slots[clientIndex].isStream = true
        slots[clientIndex].clientID = token.clientID
        slots[clientIndex].address = peer
        slots[clientIndex].sendKey = nil
        slots[clientIndex].receiveKey = nil
        slots[clientIndex].sequence = 0
        slots[clientIndex].lastSendTime = now
        slots[clientIndex].lastReceiveTime = now
        slots[clientIndex].timeoutSeconds = token.timeoutSeconds
        slots[clientIndex].confirmed = true
        slots[clientIndex].userData = token.userData
        slots[clientIndex].listPosition = connectedSlots.count
        connectedSlots.append(clientIndex)
        slotByClientID[token.clientID] = clientIndex
        counters.connects &+= 1
        counters.streamConnects &+= 1
    }

    // MARK: - Internals

    private func sendKeepAlive<Sink: ServerSink>(clientIndex: Int, now: Double, sink: inout Sink) {
        guard let key = slots[clientIndex].sendKey else { return }
        let sequence = nextSequence(clientIndex)
        var writer = WireWriter(sendBuffer, offset: PacketCodec.bodyOffset(sequence: sequence))
        writer.write(UInt32(truncatingIfNeeded: clientIndex))
        writer.write(UInt32(truncatingIfNeeded: configuration.maxClients))
        let length = codec.seal(sendBuffer, type: .keepAlive, sequence: sequence, bodyLength: 8, key: key)
        slots[clientIndex].lastSendTime = now
        transmit(length: length, to: slots[clientIndex].address, sink: &sink)
    }

    @inline(__always)
    private func nextSequence(_ clientIndex: Int) -> UInt64 {
        let sequence = slots[clientIndex].sequence
        slots[clientIndex].sequence = sequence &+ 1
        return sequence
    }

    @inline(__always)
    private func transmit<Sink: ServerSink>(length: Int, to address: NetAddress, sink: inout Sink) {
        counters.datagramsSent &+= 1
        counters.bytesSent &+= UInt64(length)
        sink.transmit(UnsafeRawBufferPointer(rebasing: sendBuffer[0..<length]), to: address)
    }

    private func release<Sink: ServerSink>(_ clientIndex: Int, reason: DisconnectReason, sink: inout Sink) {
        let clientID = slots[clientIndex].clientID
        let address = slots[clientIndex].address
        let position = slots[clientIndex].listPosition
        let last = connectedSlots.removeLast()
        if last != clientIndex {
            connectedSlots[position] = last
            slots[last].listPosition = position
        }
        if !slots[clientIndex].isStream { slotByAddress.removeValue(forKey: address) }
        slotByClientID.removeValue(forKey: clientID)
        slots[clientIndex].occupied = false
        slots[clientIndex].isStream = false
        slots[clientIndex].sendKey = nil
        slots[clientIndex].receiveKey = nil
        slots[clientIndex].userData = []
        freeSlots.append(clientIndex)
        counters.disconnects &+= 1
        sink.serverEvent(.disconnected(clientIndex: clientIndex, clientID: clientID, address: address, reason: reason))
    }

    private func sweepPendingMappings(now: Double) {
        lastMappingSweep = now
        expiredMappings.removeAll(keepingCapacity: true)
        for (address, mapping) in pendingMappings where mapping.isExpired(at: now) {
            expiredMappings.append(address)
        }
        for address in expiredMappings { pendingMappings.removeValue(forKey: address) }
    }
}
