import CSodium
import Foundation
import Hummingbird

/// Accounts, sessions and profiles.
public final class Accounts: Sendable {
    let store: any AccountStore
    let hasher: PasswordHasher
    let vault: EmailVault
    let sessionLifetime: TimeInterval
    let chat: any ChatRelay
    private let failedLoginsByPair: any RateLimiting
    private let failedLoginsByAccount: any RateLimiting
    private let failedLoginsByAddress: any RateLimiting
    private let registrationsByAddress: any RateLimiting
    private let knownAddresses: any KnownLoginAddresses
    /// A hash of a random password, verified against when the username is unknown, so that
    /// response time does not reveal which usernames exist.
    private let decoyHash: String

    init(
        store: any AccountStore, hasher: PasswordHasher, vault: EmailVault, sessionLifetime: TimeInterval, limiters: LoginLimiters,
        chat: any ChatRelay
    ) async throws {
        self.store = store
        self.hasher = hasher
        self.vault = vault
        self.sessionLifetime = sessionLifetime
        self.chat = chat
        failedLoginsByPair = limiters.failedByAccountAndAddress
        failedLoginsByAccount = limiters.failedByAccount
        failedLoginsByAddress = limiters.failedByAddress
        registrationsByAddress = limiters.registrationsByAddress
        knownAddresses = limiters.knownAddresses
        decoyHash = try await hasher.hash(UUID().uuidString)
    }

    struct Registration: Decodable {
        var username: String
        var email: String
        var password: String
        var displayName: String?
    }

    struct Login: Decodable {
        var username: String
        var password: String
    }

    struct SessionResponse: ResponseEncodable {
        var token: String
        var expiresAt: Date
        var player: PrivateProfile
    }

    struct PrivateProfile: ResponseEncodable {
        var id: Int64
        var username: String
        var displayName: String
        var email: String
        var createdAt: Date
    }

    struct ProfileUpdate: Decodable {
        var displayName: String?
    }

    static func validateUsername(_ username: String) throws {
        let allowed = username.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
        guard (3...32).contains(username.utf8.count), allowed else {
            throw APIError.invalid("username must be 3 to 32 characters of A-Z, a-z, 0-9, _ and -", code: "invalid_username")
        }
    }

    static func validateEmail(_ email: String) throws {
        let trimmed = EmailVault.normalize(email)
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        let valid = trimmed.utf8.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[0].utf8.count <= 64
            && parts[1].contains(".") && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
            && trimmed.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F }
        guard valid else { throw APIError.invalid("email must be a valid address", code: "invalid_email") }
    }

    static func validatePassword(_ password: String) throws {
        guard (8...128).contains(password.utf8.count) else {
            throw APIError.invalid("password must be 8 to 128 bytes", code: "invalid_password")
        }
    }

    /// Longest display name, in UTF-8 bytes (not characters: one character can be any size).
    static let maxDisplayNameBytes = 64

    static func validateDisplayName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...maxDisplayNameBytes).contains(trimmed.utf8.count),
            trimmed.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) })
        else {
            throw APIError.invalid("display_name must be 1 to \(maxDisplayNameBytes) bytes of printable UTF-8", code: "invalid_display_name")
        }
        return trimmed
    }

    /// Registers an account and opens its first session.
    ///
    /// **Whether an email address is registered is never revealed.** Without a way to prove that
    /// the caller owns the address (no mail is sent), any answer that differs between "address
    /// free" and "address taken" tells the caller which it is, and usernames are public, so a
    /// generic 409 for both kinds of conflict would still give it away whenever the username is
    /// free (the caller simply picks a fresh one). The only answer that reveals nothing is the
    /// one a fresh address gets, so a duplicate address registers like any other: 201, a
    /// session, the address shown back to its typist. The first account to register an address
    /// holds its *claim* (`email_hash` is the address's keyed hash, which stays unique); a later
    /// account with the same address gets 32 random bytes there instead, so it holds no claim and
    /// cannot take over the address or its owner's account. Anything that ever acts on the address
    /// (recovery, notifications) must act only for the account holding the claim. Registrations
    /// are rate limited per address, and the password is hashed before anything is looked up, so
    /// the timing does not differ either. Usernames stay unique and a taken one is reported
    /// (409 `username_taken`): they are public anyway.
    func register(_ registration: Registration, clientAddress: String) async throws -> SessionResponse {
        try Self.validateUsername(registration.username)
        try Self.validateEmail(registration.email)
        try Self.validatePassword(registration.password)
        let displayName = try Self.validateDisplayName(registration.displayName ?? registration.username)
        // Counted before the hash: each registration costs one, whatever its outcome.
        if let wait = await registrationsByAddress.take(clientAddress) { throw APIError.tooManyRequests(retryAfter: wait) }
        let passwordHash: String
        do {
            passwordHash = try await hasher.hash(registration.password)
        } catch {
            await registrationsByAddress.refund(clientAddress)  // nothing was done for it
            throw error
        }
        let now = Date()
        let session = SessionToken.generate()
        let grant = SessionGrant(tokenHash: session.hash, createdAt: now, expiresAt: now.addingTimeInterval(sessionLifetime))
        let claim = vault.keyedHash(registration.email)
        // Asked for every registration alike, so that a taken address costs no extra step.
        let claimed = try await store.isEmailClaimed(claim)
        var account = NewAccount(
            username: registration.username, displayName: displayName, sealedEmail: vault.seal(registration.email),
            emailClaim: claimed ? Self.unclaimedEmailHash() : claim, passwordHash: passwordHash, createdAt: now)
        let created: Account
        do {
            do {
                created = try await store.createAccount(account, firstSession: grant)
            } catch StoreError.duplicateEmail {
                // A registration of the same address won the race since the check above.
                account.emailClaim = Self.unclaimedEmailHash()
                created = try await store.createAccount(account, firstSession: grant)
            }
        } catch StoreError.duplicateUsername {
            throw APIError.conflict("that username is taken", code: "username_taken")
        }
        ControlPlaneMetrics.registrations.increment()
        await knownAddresses.insert(registration.username.lowercased(), clientAddress)
        return SessionResponse(token: session.token, expiresAt: grant.expiresAt, player: profile(created))
    }

    /// What an account that does not hold its address's claim stores as `email_hash`: unique,
    /// and equal to no address's keyed hash.
    static func unclaimedEmailHash() -> Data {
        var bytes = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&bytes, 32)
        return Data(bytes)
    }

    private func profile(_ account: Account) -> PrivateProfile {
        PrivateProfile(
            id: account.id, username: account.username, displayName: account.displayName, email: vault.open(account.sealedEmail) ?? "",
            createdAt: account.createdAt)
    }

    /// Logs in, under three failure budgets, each charged *before* the password is verified, so
    /// that a burst of parallel guesses runs no more verifications than the budgets hold:
    ///
    /// - per (account, address), default 5 a minute: what one guessing address meets;
    /// - per address across accounts, default 20 a minute: password spraying;
    /// - per account across addresses, default 100 an hour: a distributed guesser. An address
    ///   that has logged in to (or registered) the account before is exempt from this one, so
    ///   other people's failures never lock the owner out from a known address; from a new
    ///   address the owner is held up only once strangers have spent the whole budget.
    ///
    /// A successful login gives back what it took (and clears its (account, address) budget).
    /// Unknown usernames are charged and verified against a decoy hash exactly like known ones,
    /// so neither the answer nor its timing reveals which usernames exist.
    func login(_ login: Login, clientAddress: String) async throws -> SessionResponse {
        let account = login.username.lowercased()
        guard (try? Self.validateUsername(login.username)) != nil else {
            // No such account can exist (usernames are public, so their shape is no secret); the
            // attempt still counts against the address.
            if let wait = await failedLoginsByAddress.take(clientAddress) { throw APIError.tooManyRequests(retryAfter: wait) }
            ControlPlaneMetrics.loginFailures.increment()
            throw APIError(.unauthorized, "invalid_credentials", "unknown username or wrong password")
        }
        let pairKey = account + " " + clientAddress
        if let wait = await failedLoginsByAddress.take(clientAddress) { throw APIError.tooManyRequests(retryAfter: wait) }
        if let wait = await failedLoginsByPair.take(pairKey) {
            await failedLoginsByAddress.refund(clientAddress)
            throw APIError.tooManyRequests(retryAfter: wait)
        }
        let chargedAccount: Bool
        if let wait = await failedLoginsByAccount.take(account) {
            guard await knownAddresses.contains(account, clientAddress) else {
                await failedLoginsByAddress.refund(clientAddress)
                await failedLoginsByPair.refund(pairKey)
                throw APIError.tooManyRequests(retryAfter: wait)
            }
            chargedAccount = false
        } else {
            chargedAccount = true
        }
        func giveBack() async {
            await failedLoginsByAddress.refund(clientAddress)
            await failedLoginsByPair.refund(pairKey)
            if chargedAccount { await failedLoginsByAccount.refund(account) }
        }
        let player: Account?
        let valid: Bool
        do {
            player = try await store.account(named: login.username)
            valid = try await hasher.verify(login.password, against: player?.passwordHash ?? decoyHash)
        } catch {
            await giveBack()  // busy, cancelled or failed: no guess was checked
            throw error
        }
        guard valid, let player else {
            ControlPlaneMetrics.loginFailures.increment()
            throw APIError(.unauthorized, "invalid_credentials", "unknown username or wrong password")
        }
        ControlPlaneMetrics.loginSuccesses.increment()
        await giveBack()
        await failedLoginsByPair.reset(pairKey)
        await knownAddresses.insert(account, clientAddress)
        let session = try await createSession(for: player.id)
        return SessionResponse(token: session.token, expiresAt: session.expiresAt, player: profile(player))
    }

    private func createSession(for playerID: Int64) async throws -> (token: String, expiresAt: Date) {
        let session = SessionToken.generate()
        let now = Date()
        let expires = now.addingTimeInterval(sessionLifetime)
        try await store.openSession(SessionGrant(tokenHash: session.hash, createdAt: now, expiresAt: expires), for: playerID)
        return (session.token, expires)
    }

    func identity(forToken token: String) async throws -> Identity? {
        guard token.utf8.count <= 128 else { return nil }
        return try await store.identity(forTokenHash: SessionToken.hash(token), at: Date())
    }

    /// Revokes the session and closes the chat sockets that authenticated with it.
    func logout(_ identity: Identity) async throws {
        try await store.revokeSession(identity.sessionID, at: Date())
        await chat.endSession(identity.sessionID)
    }

    /// A new token for the same player; the old one stops working.
    func refresh(_ identity: Identity) async throws -> SessionResponse {
        try await logout(identity)
        let session = try await createSession(for: identity.playerID)
        return SessionResponse(token: session.token, expiresAt: session.expiresAt, player: try await me(identity))
    }

    func me(_ identity: Identity) async throws -> PrivateProfile {
        guard let account = try await store.account(id: identity.playerID) else { throw APIError.unauthorized }
        return profile(account)
    }

    func update(_ identity: Identity, _ update: ProfileUpdate) async throws -> PrivateProfile {
        if let name = update.displayName {
            let clean = try Self.validateDisplayName(name)
            try await store.setDisplayName(clean, of: identity.playerID)
        }
        return try await me(identity)
    }
}

/// What any player may see of another: never the email address.
struct PublicProfile: ResponseEncodable {
    var id: Int64
    var username: String
    var displayName: String
    var createdAt: Date
    var statistics: PlayerStatistics
}

extension PlayerStatistics: ResponseEncodable {}

extension ControlPlaneRoutes {
    func addAccountRoutes(public router: Router<ArbiterRequestContext>, authenticated group: RouterGroup<ArbiterRequestContext>) {
        let accounts = services.accounts
        router.post("/v1/accounts") { request, context -> EditedResponse<Accounts.SessionResponse> in
            let body = try await request.json(Accounts.Registration.self, context: context)
            return EditedResponse(status: .created, response: try await accounts.register(body, clientAddress: context.clientAddress))
        }
        router.post("/v1/sessions") { request, context -> Accounts.SessionResponse in
            let body = try await request.json(Accounts.Login.self, context: context)
            return try await accounts.login(body, clientAddress: context.clientAddress)
        }
        group.delete("/v1/sessions/current") { _, context -> HTTPResponse.Status in
            try await accounts.logout(try context.requireIdentity())
            return .noContent
        }
        group.post("/v1/sessions/refresh") { _, context -> Accounts.SessionResponse in
            try await accounts.refresh(try context.requireIdentity())
        }
        group.get("/v1/me") { _, context -> Accounts.PrivateProfile in
            try await accounts.me(try context.requireIdentity())
        }
        group.patch("/v1/me") { request, context -> Accounts.PrivateProfile in
            let body = try await request.json(Accounts.ProfileUpdate.self, context: context)
            return try await accounts.update(try context.requireIdentity(), body)
        }
        let store = services.stores.accounts
        let results = services.stores.results
        group.get("/v1/players/:id") { _, context -> PublicProfile in
            let id = try context.parameters.id("id", "player")
            guard let player = try await store.account(id: id) else { throw APIError.notFound("player") }
            return PublicProfile(
                id: id, username: player.username, displayName: player.displayName, createdAt: player.createdAt,
                statistics: try await results.statistics(of: id))
        }
        group.get("/v1/players/:id/statistics") { _, context -> PlayerStatistics in
            let id = try context.parameters.id("id", "player")
            guard try await store.account(id: id) != nil else { throw APIError.notFound("player") }
            return try await results.statistics(of: id)
        }
    }
}
