import Foundation

/// An account as stored.
struct Account: Sendable, Equatable {
    var id: Int64
    var username: String
    var displayName: String
    /// The address sealed with the data directory's key (see ``EmailVault``); empty for an
    /// account that never gave one (a device account).
    var sealedEmail: Data
    /// The Argon2id hash; nil for an account without a password (a device account not yet given
    /// one), which can never be logged in to by password.
    var passwordHash: String?
    var createdAt: Date
}

/// An account to create.
struct NewAccount: Sendable, Equatable {
    var username: String
    var displayName: String
    var sealedEmail: Data
    /// The address's keyed hash (``EmailVault/keyedHash(_:)``), or random bytes for an account
    /// that does not hold its address's claim (or has no address): unique either way.
    var emailClaim: Data
    /// nil for an account without a password.
    var passwordHash: String?
    var createdAt: Date
    /// The keyed hash of the device id (``EmailVault/deviceHash(_:)``) of a device account;
    /// unique among accounts.
    var deviceHash: Data? = nil
}

/// A session to open. Only the token's hash is stored: a stolen database holds no usable token.
struct SessionGrant: Sendable, Equatable {
    var tokenHash: Data
    var createdAt: Date
    var expiresAt: Date
    /// A refresh token to issue with the session. Given to ``AccountStore/createAccount(_:firstSession:)``
    /// or ``AccountStore/openSession(_:for:)``, it starts a new *family* (one per login), which
    /// the session belongs to.
    var refresh: RefreshGrant? = nil
}

/// A refresh token to store, by its hash (SHA-256-class BLAKE2b of 256 random bits: no slow
/// hash is needed for a secret that cannot be guessed).
struct RefreshGrant: Sendable, Equatable {
    var tokenHash: Data
    var createdAt: Date
    var expiresAt: Date
}

/// The username, password and (optional) address given to an account that had no password.
struct NewCredentials: Sendable, Equatable {
    var username: String
    var passwordHash: String
    /// Both nil to keep the account's (absent) address; otherwise as in ``NewAccount``.
    var sealedEmail: Data?
    var emailClaim: Data?
}

/// What presenting a refresh token came to (``AccountStore/rotateRefreshToken(_:next:nextRefresh:at:)``).
enum RefreshRotation: Sendable {
    /// The token was live: it is now used up, `next` is open in its family (as `identity`)
    /// with `nextRefresh` as the family's live token, and `ended` are the family's earlier
    /// sessions, revoked by the rotation (a family has one live session).
    case rotated(Identity, ended: [Int64])
    /// The token had been rotated before: someone holds a copy. The whole family is revoked
    /// now, and `revoked` are the sessions that this revoked.
    case reused(revoked: [Int64])
    /// Live once, but past its expiry.
    case expired
    /// Unknown, or of a revoked family.
    case invalid
}

/// Accounts and their sessions.
protocol AccountStore: Sendable {
    /// Whether an account holds `claim` (an address's keyed hash).
    func isEmailClaimed(_ claim: Data) async throws -> Bool
    /// Creates the account, its (empty) statistics and its first session (and, when the grant
    /// has one, the session's refresh family and token), all or nothing. Throws
    /// ``StoreError/duplicateUsername`` when the username is taken (checked first),
    /// ``StoreError/duplicateEmail`` when `emailClaim` is held by another account, and
    /// ``StoreError/duplicateDevice`` when `deviceHash` is another account's.
    func createAccount(_ account: NewAccount, firstSession: SessionGrant) async throws -> Account
    /// The account called `username`, compared regardless of case.
    func account(named username: String) async throws -> Account?
    func account(id: Int64) async throws -> Account?
    /// The account created for a device (by ``NewAccount/deviceHash``).
    func account(deviceHash: Data) async throws -> Account?
    /// The usernames of those of `ids` that exist.
    func usernames(of ids: [Int64]) async throws -> [Int64: String]
    func setDisplayName(_ name: String, of player: Int64) async throws
    /// Gives an account without a password its username, password and, if `credentials` has
    /// one, address, in one conditional update; returns the account as now stored. Throws
    /// ``StoreError/passwordAlreadySet`` when the account has a password (so of two racing
    /// calls one wins), ``StoreError/duplicateUsername``, ``StoreError/duplicateEmail``, or
    /// ``StoreError/notFound(_:)`` (`.player`).
    func setCredentials(_ credentials: NewCredentials, of player: Int64) async throws -> Account
    /// Opens a session (and, when the grant has one, a new refresh family with its token).
    func openSession(_ session: SessionGrant, for player: Int64) async throws
    /// Who a session token (given by its hash) stands for at `now`; nil when the token is
    /// unknown, expired or revoked. Fills ``Identity/sessionExpiresAt``.
    func identity(forTokenHash hash: Data, at now: Date) async throws -> Identity?
    func revokeSession(_ id: Int64, at now: Date) async throws
    /// Revokes session `id` and, when it belongs to a refresh family, the family (its refresh
    /// tokens stop working) and every session of it. Returns the sessions revoked by this call
    /// (always including `id` if it was live).
    func revokeSessionFamily(of id: Int64, at now: Date) async throws -> [Int64]
    /// Presents a refresh token (by its hash), atomically: a live one is marked used and `next`
    /// (with `nextRefresh`) opens in its family; one used before revokes its family (reuse).
    /// Of two concurrent presentations of one live token, one rotates and the other is reuse.
    /// An expired token is ``RefreshRotation/expired`` (changing nothing), unless it was used
    /// before: reuse is detected first.
    func rotateRefreshToken(_ hash: Data, next: SessionGrant, nextRefresh: RefreshGrant, at now: Date) async throws -> RefreshRotation
    /// Deletes up to `batch` sessions that expired before `cutoff` (revoked ones too: a session
    /// expires even when revoked first), and up to `batch` refresh families revoked before
    /// `cutoff` or whose every token expired before it (with their tokens). Returns how many rows
    /// of each went: one short write, so that logins are not held up.
    func deleteEndedSessions(before cutoff: Date, batch: Int) async throws -> (sessions: Int, families: Int)
}
