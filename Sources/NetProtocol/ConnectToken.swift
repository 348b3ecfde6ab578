/// Why a connect token could not be made or read.
public enum ConnectTokenError: Error, Equatable, Sendable {
    case wrongLength(Int)
    case wrongVersion
    case wrongProtocolID
    case invalidAddressCount(Int)
    case invalidAddress
    case invalidKey
    case userDataTooLong(Int)
    case expiryBeforeCreation
    case decryptionFailed
}

/// The secret half of a connect token: only the backend and game servers can read it.
public struct PrivateConnectToken: Sendable, Equatable {
    public var clientID: UInt64
    /// Seconds without traffic before either side times out; negative disables timeouts.
    public var timeoutSeconds: Int32
    /// The server addresses the server checks itself against (may differ from the public ones).
    public var serverAddresses: [NetAddress]
    public var clientToServerKey: SymmetricKey
    public var serverToClientKey: SymmetricKey
    /// Exactly 256 bytes, opaque to the transport.
    public var userData: [UInt8]

    public init(
        clientID: UInt64, timeoutSeconds: Int32, serverAddresses: [NetAddress],
        clientToServerKey: SymmetricKey, serverToClientKey: SymmetricKey, userData: [UInt8]
    ) {
        self.clientID = clientID
        self.timeoutSeconds = timeoutSeconds
        self.serverAddresses = serverAddresses
        self.clientToServerKey = clientToServerKey
        self.serverToClientKey = serverToClientKey
        self.userData = userData
    }

    /// Bytes that are encrypted (the last 16 of the 1024-byte block hold the tag).
    static let plaintextBytes = Netcode.connectTokenPrivateBytes - Sodium.macBytes

    /// Writes the 1024-byte plaintext block (tag bytes zero).
    public func writePlaintext(into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= Netcode.connectTokenPrivateBytes)
        var writer = WireWriter(buffer)
        writer.write(clientID)
        writer.write(UInt32(bitPattern: timeoutSeconds))
        writer.write(UInt32(serverAddresses.count))
        for address in serverAddresses { address.write(to: &writer) }
        writer.write(clientToServerKey)
        writer.write(serverToClientKey)
        writer.write(userData)
        writer.writeZeros(Netcode.userDataBytes - userData.count)
        writer.writeZeros(Netcode.connectTokenPrivateBytes - writer.offset)
    }

    /// The plaintext as an array (for known-answer tests).
    public var plaintext: [UInt8] {
        var out = [UInt8](repeating: 0, count: Netcode.connectTokenPrivateBytes)
        out.withUnsafeMutableBytes { writePlaintext(into: $0) }
        return out
    }

    /// Reads a decrypted plaintext block.
    public static func read(plaintext: UnsafeRawBufferPointer) throws(ConnectTokenError) -> PrivateConnectToken {
        var reader = WireReader(plaintext)
        guard let clientID = reader.readUInt64(), let timeout = reader.readUInt32(),
            let count = reader.readUInt32()
        else { throw .wrongLength(plaintext.count) }
        guard count >= 1, count <= UInt32(Netcode.maxServersPerConnect) else {
            throw .invalidAddressCount(Int(count))
        }
        var addresses = [NetAddress]()
        addresses.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let address = NetAddress.read(from: &reader) else { throw .invalidAddress }
            addresses.append(address)
        }
        guard let c2s = reader.readBytes(Sodium.keyBytes), let s2c = reader.readBytes(Sodium.keyBytes),
            let clientToServer = SymmetricKey(raw: c2s), let serverToClient = SymmetricKey(raw: s2c)
        else { throw .invalidKey }
        guard let userData = reader.readBytes(Netcode.userDataBytes) else { throw .wrongLength(plaintext.count) }
        return PrivateConnectToken(
            clientID: clientID, timeoutSeconds: Int32(bitPattern: timeout), serverAddresses: addresses,
            clientToServerKey: clientToServer, serverToClientKey: serverToClient, userData: Array(userData))
    }

    /// Writes the 29 bytes of associated data that bind the sealed block to its token:
    /// version, protocol id and expiry (the create time is deliberately not bound).
    static func writeAdditionalData(protocolID: UInt64, expireTimestamp: UInt64, into buffer: UnsafeMutableRawBufferPointer) {
        var writer = WireWriter(buffer)
        writer.write(Netcode.versionInfo)
        writer.write(protocolID)
        writer.write(expireTimestamp)
    }

    /// The 29-byte associated data, as an array.
    public static func additionalData(protocolID: UInt64, expireTimestamp: UInt64) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 29)
        out.withUnsafeMutableBytes { writeAdditionalData(protocolID: protocolID, expireTimestamp: expireTimestamp, into: $0) }
        return out
    }

    /// Encrypts this token into 1024 bytes with XChaCha20-Poly1305.
    public func seal(protocolID: UInt64, expireTimestamp: UInt64, nonce: [UInt8], privateKey: SymmetricKey) -> [UInt8] {
        precondition(nonce.count == Netcode.connectTokenNonceBytes)
        var block = plaintext
        let ad = Self.additionalData(protocolID: protocolID, expireTimestamp: expireTimestamp)
        block.withUnsafeMutableBytes { raw in
            ad.withUnsafeBytes { adBytes in
                nonce.withUnsafeBytes { nonceBytes in
                    Sodium.sealXChaCha20Poly1305(
                        raw.baseAddress!, length: Self.plaintextBytes, additionalData: adBytes,
                        nonce: nonceBytes.baseAddress!, key: privateKey)
                }
            }
        }
        return block
    }

    /// Decrypts a 1024-byte sealed block in place in `scratch` (which must hold 1024 bytes) and
    /// parses it. Throws ``ConnectTokenError/decryptionFailed`` for a wrong key or any tampering.
    public static func open(
        sealed: UnsafeRawBufferPointer, protocolID: UInt64, expireTimestamp: UInt64,
        nonce: UnsafeRawBufferPointer, privateKey: SymmetricKey, scratch: UnsafeMutableRawBufferPointer
    ) throws(ConnectTokenError) -> PrivateConnectToken {
        guard sealed.count == Netcode.connectTokenPrivateBytes, nonce.count == Netcode.connectTokenNonceBytes,
            scratch.count >= Netcode.connectTokenPrivateBytes + 32
        else { throw .wrongLength(sealed.count) }
        let block = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<Netcode.connectTokenPrivateBytes])
        let adBuffer = UnsafeMutableRawBufferPointer(rebasing: scratch[Netcode.connectTokenPrivateBytes..<Netcode.connectTokenPrivateBytes + 29])
        block.copyMemory(from: sealed)
        writeAdditionalData(protocolID: protocolID, expireTimestamp: expireTimestamp, into: adBuffer)
        guard let opened = Sodium.openXChaCha20Poly1305(
            block.baseAddress!, length: Netcode.connectTokenPrivateBytes,
            additionalData: UnsafeRawBufferPointer(adBuffer), nonce: nonce.baseAddress!, key: privateKey)
        else { throw .decryptionFailed }
        return try read(plaintext: UnsafeRawBufferPointer(rebasing: block[0..<opened]))
    }

    /// Convenience for arrays (tests, tools).
    public static func open(
        sealed: [UInt8], protocolID: UInt64, expireTimestamp: UInt64, nonce: [UInt8], privateKey: SymmetricKey
    ) throws(ConnectTokenError) -> PrivateConnectToken {
        var scratch = [UInt8](repeating: 0, count: Netcode.connectTokenPrivateBytes + 32)
        let result: Result<PrivateConnectToken, ConnectTokenError> = sealed.withUnsafeBytes { sealedBytes in
            nonce.withUnsafeBytes { nonceBytes in
                scratch.withUnsafeMutableBytes { scratchBytes in
                    Result { () throws(ConnectTokenError) in
                        try open(
                            sealed: sealedBytes, protocolID: protocolID, expireTimestamp: expireTimestamp,
                            nonce: nonceBytes, privateKey: privateKey, scratch: scratchBytes)
                    }
                }
            }
        }
        return try result.get()
    }
}

/// The 2048-byte token a backend hands a client: public connection facts plus the sealed
/// private part the client forwards to the server untouched.
public struct ConnectToken: Sendable, Equatable {
    public var protocolID: UInt64
    public var createTimestamp: UInt64
    public var expireTimestamp: UInt64
    /// 24-byte XChaCha20 nonce for the private part.
    public var nonce: [UInt8]
    /// The 1024 sealed bytes of the private part.
    public var sealedPrivate: [UInt8]
    public var timeoutSeconds: Int32
    /// Addresses the client dials, in order.
    public var serverAddresses: [NetAddress]
    public var clientToServerKey: SymmetricKey
    public var serverToClientKey: SymmetricKey

    public init(
        protocolID: UInt64, createTimestamp: UInt64, expireTimestamp: UInt64, nonce: [UInt8],
        sealedPrivate: [UInt8], timeoutSeconds: Int32, serverAddresses: [NetAddress],
        clientToServerKey: SymmetricKey, serverToClientKey: SymmetricKey
    ) {
        self.protocolID = protocolID
        self.createTimestamp = createTimestamp
        self.expireTimestamp = expireTimestamp
        self.nonce = nonce
        self.sealedPrivate = sealedPrivate
        self.timeoutSeconds = timeoutSeconds
        self.serverAddresses = serverAddresses
        self.clientToServerKey = clientToServerKey
        self.serverToClientKey = serverToClientKey
    }

    /// Makes a token the way the reference generator does: fresh session keys and nonce from
    /// `random`, expiry `expireSeconds` after `nowUnix` (negative: never).
    ///
    /// - Parameters:
    ///   - publicAddresses: what the client dials.
    ///   - internalAddresses: what the server checks itself against; defaults to the public ones.
    public static func generate(
        publicAddresses: [NetAddress], internalAddresses: [NetAddress]? = nil,
        expireSeconds: Int64, timeoutSeconds: Int32, clientID: UInt64, protocolID: UInt64,
        privateKey: SymmetricKey, userData: [UInt8] = [], nowUnix: UInt64,
        random: inout some SecureRandomSource
    ) throws(ConnectTokenError) -> ConnectToken {
        let internalList = internalAddresses ?? publicAddresses
        for list in [publicAddresses, internalList] {
            guard (1...Netcode.maxServersPerConnect).contains(list.count) else { throw .invalidAddressCount(list.count) }
        }
        guard internalList.count == publicAddresses.count else { throw .invalidAddressCount(internalList.count) }
        guard userData.count <= Netcode.userDataBytes else { throw .userDataTooLong(userData.count) }
        let expire = expireSeconds >= 0 ? nowUnix &+ UInt64(expireSeconds) : UInt64.max
        guard expire >= nowUnix else { throw .expiryBeforeCreation }
        let clientToServer = SymmetricKey(random: &random)
        let serverToClient = SymmetricKey(random: &random)
        var nonce = [UInt8](repeating: 0, count: Netcode.connectTokenNonceBytes)
        nonce.withUnsafeMutableBytes { random.fill($0) }
        let privateToken = PrivateConnectToken(
            clientID: clientID, timeoutSeconds: timeoutSeconds, serverAddresses: internalList,
            clientToServerKey: clientToServer, serverToClientKey: serverToClient,
            userData: userData + [UInt8](repeating: 0, count: Netcode.userDataBytes - userData.count))
        let sealed = privateToken.seal(protocolID: protocolID, expireTimestamp: expire, nonce: nonce, privateKey: privateKey)
        return ConnectToken(
            protocolID: protocolID, createTimestamp: nowUnix, expireTimestamp: expire, nonce: nonce,
            sealedPrivate: sealed, timeoutSeconds: timeoutSeconds, serverAddresses: publicAddresses,
            clientToServerKey: clientToServer, serverToClientKey: serverToClient)
    }

    /// The 2048 bytes on the wire.
    public func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Netcode.connectTokenBytes)
        out.withUnsafeMutableBytes { raw in
            var writer = WireWriter(raw)
            writer.write(Netcode.versionInfo)
            writer.write(protocolID)
            writer.write(createTimestamp)
            writer.write(expireTimestamp)
            writer.write(nonce)
            writer.write(sealedPrivate)
            writer.write(UInt32(bitPattern: timeoutSeconds))
            writer.write(UInt32(serverAddresses.count))
            for address in serverAddresses { address.write(to: &writer) }
            writer.write(clientToServerKey)
            writer.write(serverToClientKey)
        }
        return out
    }

    /// Parses a 2048-byte token. Checks what a client can check: length, version, address
    /// count and types, and that it does not expire before it was created.
    public init(decoding bytes: [UInt8]) throws(ConnectTokenError) {
        guard bytes.count == Netcode.connectTokenBytes else { throw .wrongLength(bytes.count) }
        let parsed: Result<ConnectToken, ConnectTokenError> = bytes.withUnsafeBytes { raw in
            Result { () throws(ConnectTokenError) in try Self.parse(raw) }
        }
        self = try parsed.get()
    }

    private static func parse(_ raw: UnsafeRawBufferPointer) throws(ConnectTokenError) -> ConnectToken {
        var reader = WireReader(raw)
        guard let version = reader.readBytes(Netcode.versionInfoBytes), version.elementsEqual(Netcode.versionInfo)
        else { throw .wrongVersion }
        guard let protocolID = reader.readUInt64(), let create = reader.readUInt64(), let expire = reader.readUInt64(),
            let nonce = reader.readBytes(Netcode.connectTokenNonceBytes),
            let sealed = reader.readBytes(Netcode.connectTokenPrivateBytes),
            let timeout = reader.readUInt32(), let count = reader.readUInt32()
        else { throw .wrongLength(raw.count) }
        guard count >= 1, count <= UInt32(Netcode.maxServersPerConnect) else { throw .invalidAddressCount(Int(count)) }
        var addresses = [NetAddress]()
        for _ in 0..<count {
            guard let address = NetAddress.read(from: &reader) else { throw .invalidAddress }
            addresses.append(address)
        }
        guard let c2s = reader.readBytes(Sodium.keyBytes), let s2c = reader.readBytes(Sodium.keyBytes),
            let clientToServer = SymmetricKey(raw: c2s), let serverToClient = SymmetricKey(raw: s2c)
        else { throw .invalidKey }
        guard create <= expire else { throw .expiryBeforeCreation }
        return ConnectToken(
            protocolID: protocolID, createTimestamp: create, expireTimestamp: expire, nonce: Array(nonce),
            sealedPrivate: Array(sealed), timeoutSeconds: Int32(bitPattern: timeout), serverAddresses: addresses,
            clientToServerKey: clientToServer, serverToClientKey: serverToClient)
    }
}
