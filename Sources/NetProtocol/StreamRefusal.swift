/// Why a server endpoint refused a stream (WebSocket) client's connect token. The same checks,
/// in the same order, as a UDP connection request's, with one difference: a stream opens once,
/// so any earlier use of the token (UDP or stream, from any address) spends it.
public enum StreamRefusal: Int, CaseIterable, Sendable, CustomStringConvertible, Error {
    /// Not a 2048-byte connect token of this version and protocol id.
    case malformedToken
    /// Past its expiry (as the sealed part authenticates it).
    case tokenExpired
    /// The private part does not decrypt with this server's key, or decrypts to nonsense.
    case tokenInvalid
    /// The token names other server addresses: another game worker's, or another server's.
    case serverAddressNotInToken
    /// The token was used before.
    case tokenAlreadyUsed
    /// A client with the token's client id is connected already.
    case clientIDAlreadyConnected
    /// Every client slot is taken.
    case serverFull

    public var description: String {
        switch self {
        case .malformedToken: "malformed_token"
        case .tokenExpired: "token_expired"
        case .tokenInvalid: "token_invalid"
        case .serverAddressNotInToken: "server_address_not_in_token"
        case .tokenAlreadyUsed: "token_already_used"
        case .clientIDAlreadyConnected: "client_id_already_connected"
        case .serverFull: "server_full"
        }
    }
}
