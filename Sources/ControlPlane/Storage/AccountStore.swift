import Foundation

/// An account as stored.
struct Account: Sendable, Equatable {
    var id: Int64
    var username: String
    var displayName: String
    /// The address sealed with the data directory's key (see ``EmailVault``).
    var sealedEmail: Data
    var passwordHash: String
    var createdAt: Date
}

/// An account to create.
struct NewAccount: Sendable, Equatable {
    var username: String
    var displayName: String
    var sealedEmail: Data
    /// The address's keyed hash (``EmailVault/keyedHash(_:)``), or random bytes for an account
    /// that does not hold its address's claim: unique either way.
    var emailClaim: Data
    var passwordHash: String
    var createdAt: Date
}

/// A session to open. Only the token's hash is stored: a stolen database holds no usable token.
struct SessionGrant: Sendable, Equatable {
    var tokenHash: Data
    var createdAt: Date
    var expiresAt: Date
}

/// Accounts and their sessions.
protocol AccountStore: Sendable {
    /// Whether an account holds `claim` (an address's keyed hash).
    func isEmailClaimed(_ claim: Data) async throws -> Bool
    /// Creates the account, its (empty) statistics and its first session, all or nothing.
    /// Throws ``StoreError/duplicateUsername`` when the username is taken (checked first), and
    /// ``StoreError/duplicateEmail`` when `emailClaim` is held by another account.
    func createAccount(_ account: NewAccount, firstSession: SessionGrant) async throws -> Account
    /// The account called `username`, compared regardless of case.
    func account(named username: String) async throws -> Account?
    func account(id: Int64) async throws -> Account?
    /// The usernames of those of `ids` that exist.
    func usernames(of ids: [Int64]) async throws -> [Int64: String]
    func setDisplayName(_ name: String, of player: Int64) async throws
    func openSession(_ session: SessionGrant, for player: Int64) async throws
    /// Who a session token (given by its hash) stands for at `now`; nil when the token is
    /// unknown, expired or revoked.
    func identity(forTokenHash hash: Data, at now: Date) async throws -> Identity?
    func revokeSession(_ id: Int64, at now: Date) async throws
}
