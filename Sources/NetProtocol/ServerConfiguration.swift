/// How a ``ServerEndpoint`` is set up. A value type with documented defaults; validated by
/// ``validate()`` when the endpoint is created.
public struct ServerConfiguration: Sendable {
    /// The application's protocol id; tokens and packets for any other id are dropped.
    public var protocolID: UInt64
    /// The key shared with whoever mints connect tokens.
    public var privateKey: SymmetricKey
    /// The addresses this server recognises as itself inside a token: its bind address and,
    /// when bound to 0.0.0.0 / :: or behind NAT, the public address clients are given.
    /// A request naming none of them is dropped.
    public var serverAddresses: [NetAddress]
    /// Most clients connected at once. Unlike the reference (256), thousands are fine: every
    /// per-packet lookup is a hash, not a scan.
    public var maxClients: Int
    /// Most pending address-to-key mappings (clients between request and response).
    /// Default: 4 × maxClients, at least 1024.
    public var maxEncryptionMappings: Int
    /// How many used token MACs are remembered to stop a token being used from a second
    /// address. Default: 8 × maxClients, at least 2048.
    public var tokenHistoryEntries: Int
    /// How long a pending mapping lives when the token disables timeouts (timeout ≤ 0), in
    /// seconds. The reference keeps such a mapping forever, or (timeout 0) kills it at once so
    /// the handshake can never finish; a bounded lifetime avoids both.
    public var pendingMappingFallbackSeconds: Double

    public init(
        protocolID: UInt64, privateKey: SymmetricKey, serverAddresses: [NetAddress], maxClients: Int = 256,
        maxEncryptionMappings: Int? = nil, tokenHistoryEntries: Int? = nil, pendingMappingFallbackSeconds: Double = 10
    ) {
        self.protocolID = protocolID
        self.privateKey = privateKey
        self.serverAddresses = serverAddresses
        self.maxClients = maxClients
        self.maxEncryptionMappings = maxEncryptionMappings ?? max(1024, 4 * maxClients)
        self.tokenHistoryEntries = tokenHistoryEntries ?? max(2048, 8 * maxClients)
        self.pendingMappingFallbackSeconds = pendingMappingFallbackSeconds
    }

    /// Configuration errors, reported before any socket is opened.
    public enum Invalid: Error, Equatable, Sendable {
        case maxClients(Int)
        case noServerAddress
        case maxEncryptionMappings(Int)
        case tokenHistoryEntries(Int)
    }

    /// Checks the ranges every field must be in.
    public func validate() throws(Invalid) {
        guard (1...1_000_000).contains(maxClients) else { throw .maxClients(maxClients) }
        guard !serverAddresses.isEmpty else { throw .noServerAddress }
        guard maxEncryptionMappings >= 1 else { throw .maxEncryptionMappings(maxEncryptionMappings) }
        guard tokenHistoryEntries >= 1 else { throw .tokenHistoryEntries(tokenHistoryEntries) }
    }
}
