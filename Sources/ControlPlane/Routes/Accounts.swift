import CSodium
import Foundation
import Hummingbird

/// Accounts, sessions and profiles.
public final class Accounts: Sendable {
    let store: any AccountStore
    let hasher: PasswordHasher
    let vault: EmailVault
    let sessionLifetime: TimeInterval
    let refreshLifetime: TimeInterval
    let chat: any ChatRelay
    let sessions: SessionCache
    let revocations: any SessionRevocations
    /// The wall clock every expiry is judged by (tests step it).
    let now: @Sendable () -> Date
    private let failedLoginsByPair: any RateLimiting
    private let failedLoginsByAccount: any RateLimiting
    private let failedLoginsByAddress: any RateLimiting
    private let registrationsByAddress: any RateLimiting
    private let deviceLoginsByAddress: any RateLimiting
    private let failedRefreshesByAddress: any RateLimiting
    private let knownAddresses: any KnownLoginAddresses
    /// Operators' usernames, lower case (usernames are unique whatever their case).
    let operators: Set<String>
    /// A hash of a random password, verified against when the username is unknown, so that
    /// response time does not reveal which usernames exist.
    private let decoyHash: String

    init(
        store: any AccountStore, hasher: PasswordHasher, vault: EmailVault, sessionLifetime: TimeInterval, refreshLifetime: TimeInterval,
        limiters: LoginLimiters, chat: any ChatRelay, sessions: SessionCache, revocations: any SessionRevocations,
        operators: Set<String> = [], now: @escaping @Sendable () -> Date = Date.init
    ) async throws {
        self.store = store
        self.hasher = hasher
        self.vault = vault
        self.sessionLifetime = sessionLifetime
        self.refreshLifetime = refreshLifetime
        self.chat = chat
        self.sessions = sessions
        self.revocations = revocations
        self.operators = Set(operators.map { $0.lowercased() })
        self.now = now
        failedLoginsByPair = limiters.failedByAccountAndAddress
        failedLoginsByAccount = limiters.failedByAccount
        failedLoginsByAddress = limiters.failedByAddress
        registrationsByAddress = limiters.registrationsByAddress
        deviceLoginsByAddress = limiters.deviceLoginsByAddress
        failedRefreshesByAddress = limiters.failedRefreshesByAddress
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

    struct DeviceLogin: Decodable {
        var deviceId: String
    }

    struct RefreshRequest: Decodable {
        var refreshToken: String
    }

    struct CredentialsUpgrade: Decodable {
        var username: String
        var password: String
        var email: String?
    }

    /// Written by hand (``JSONObjectWriter``) rather than by `JSONEncoder`: logins and resumes
    /// answer with it in storms. `Encodable` stays, and a test holds the two to the same bytes.
    struct SessionResponse: Encodable, ResponseGenerator {
        var token: String
        var expiresAt: Date
        /// Absent only from the access-token exchange (the family's refresh token stays live).
        var refreshToken: String?
        var refreshExpiresAt: Date?
        var player: PrivateProfile

        /// Sorted keys, snake case: as the control port's encoder writes every answer.
        var json: JSONObjectWriter {
            var writer = JSONObjectWriter()
            writer.field("expires_at", expiresAt)
            writer.field("player") { player.write(to: &$0) }
            writer.field("refresh_expires_at", refreshExpiresAt)
            writer.field("refresh_token", refreshToken)
            writer.field("token", token)
            return writer
        }

        func response(from request: Request, context: some RequestContext) throws -> Response { json.response() }
    }

    struct PrivateProfile: ResponseEncodable {
        var id: Int64
        var username: String
        var displayName: String
        /// Absent for an account that never gave one (a device account).
        var email: String?
        /// False for a device account not yet given a password (``Accounts/setCredentials(_:_:clientAddress:)``).
        var hasPassword: Bool
        var createdAt: Date
        /// Named by `arbiter serve --operator`: may use the console (`/v1/console/…`).
        var `operator`: Bool

        func write(to writer: inout JSONObjectWriter) {
            writer.field("created_at", createdAt)
            writer.field("display_name", displayName)
            writer.field("email", email)
            writer.field("has_password", hasPassword)
            writer.field("id", id)
            writer.field("operator", `operator`)
            writer.field("username", username)
        }
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
        let (grant, tokens) = newGrant()
        let claim = vault.keyedHash(registration.email)
        // Asked for every registration alike, so that a taken address costs no extra step.
        let claimed = try await store.isEmailClaimed(claim)
        var account = NewAccount(
            username: registration.username, displayName: displayName, sealedEmail: vault.seal(registration.email),
            emailClaim: claimed ? Self.unclaimedEmailHash() : claim, passwordHash: passwordHash, createdAt: grant.createdAt)
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
        return tokens.response(profile(created))
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
            id: account.id, username: account.username, displayName: account.displayName,
            email: account.sealedEmail.isEmpty ? nil : vault.open(account.sealedEmail), hasPassword: account.passwordHash != nil,
            createdAt: account.createdAt, operator: isOperator(account.username))
    }

    /// Whether `username` names an operator.
    func isOperator(_ username: String) -> Bool { operators.contains(username.lowercased()) }

    /// The tokens of a grant about to be stored, as the client gets them.
    struct IssuedTokens {
        var token: String
        var expiresAt: Date
        var refreshToken: String?
        var refreshExpiresAt: Date?

        func response(_ player: PrivateProfile) -> SessionResponse {
            SessionResponse(token: token, expiresAt: expiresAt, refreshToken: refreshToken, refreshExpiresAt: refreshExpiresAt, player: player)
        }
    }

    /// A new session with a new refresh token (the start of a family), and what the client
    /// gets of them.
    private func newGrant() -> (SessionGrant, IssuedTokens) {
        let now = now()
        let session = SessionToken.generate()
        let refresh = newRefreshGrant(at: now)
        let grant = SessionGrant(
            tokenHash: session.hash, createdAt: now, expiresAt: now.addingTimeInterval(sessionLifetime), refresh: refresh.grant)
        return (grant, IssuedTokens(token: session.token, expiresAt: grant.expiresAt, refreshToken: refresh.token, refreshExpiresAt: refresh.grant.expiresAt))
    }

    private func newRefreshGrant(at now: Date) -> (token: String, grant: RefreshGrant) {
        let refresh = SessionToken.generate()
        return (refresh.token, RefreshGrant(tokenHash: refresh.hash, createdAt: now, expiresAt: now.addingTimeInterval(refreshLifetime)))
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
    /// Unknown usernames, and accounts without a password (device accounts), are charged and
    /// verified against a decoy hash exactly like known ones, so neither the answer nor its
    /// timing reveals which usernames exist, and no password opens a password-less account.
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
        guard valid, let player, player.passwordHash != nil else {
            ControlPlaneMetrics.loginFailures.increment()
            throw APIError(.unauthorized, "invalid_credentials", "unknown username or wrong password")
        }
        ControlPlaneMetrics.loginSuccesses.increment()
        await giveBack()
        await failedLoginsByPair.reset(pairKey)
        await knownAddresses.insert(account, clientAddress)
        let (grant, tokens) = newGrant()
        try await store.openSession(grant, for: player.id)
        return tokens.response(profile(player))
    }

    /// Who `token` stands for: from the session cache when it remembers, else from the store
    /// (and then remembered).
    func identity(forToken token: String) async throws -> Identity? {
        guard token.utf8.count <= 128 else { return nil }
        let hash = SessionToken.hash(token)
        let now = now()
        if let cached = sessions.identity(forTokenHash: hash, at: now) { return cached }
        let epoch = sessions.epoch
        guard let identity = try await store.identity(forTokenHash: hash, at: now) else { return nil }
        sessions.remember(identity, forTokenHash: hash, at: now, readAtEpoch: epoch)
        return identity
    }

    /// Ends sessions everywhere: every control port's cache forgets them, then their chat
    /// sockets close.
    private func end(_ sessions: [Int64]) async {
        guard !sessions.isEmpty else { return }
        await revocations.announce(.sessions(sessions))
        for session in sessions { await chat.endSession(session) }
    }

    /// Revokes the session and its refresh family (the family's refresh token and every session
    /// it issued), and closes the chat sockets that authenticated with any of them.
    func logout(_ identity: Identity) async throws {
        let revoked = try await store.revokeSessionFamily(of: identity.sessionID, at: now())
        await end(revoked.contains(identity.sessionID) ? revoked : revoked + [identity.sessionID])
    }

    /// Exchanges an access token for a new one (the old one stops working; the refresh
    /// family, if any, is left as it is). Clients with a refresh token use ``resume(_:clientAddress:)``.
    func exchange(_ identity: Identity) async throws -> SessionResponse {
        try await store.revokeSession(identity.sessionID, at: now())
        await end([identity.sessionID])
        let now = now()
        let session = SessionToken.generate()
        let grant = SessionGrant(tokenHash: session.hash, createdAt: now, expiresAt: now.addingTimeInterval(sessionLifetime))
        try await store.openSession(grant, for: identity.playerID)
        return SessionResponse(token: session.token, expiresAt: grant.expiresAt, player: try await me(identity))
    }

    /// Resumes with a refresh token, without the password: a new access token and a new refresh
    /// token in the same family; the presented one is used up, and the family's earlier session
    /// ends. A refresh token presented a second time means a copy exists (stolen, or a client
    /// that lost the answer): the whole family is revoked, its sessions end here and on every
    /// control port (chat sockets included), and the answer is 401 `refresh_token_reused`.
    /// Unknown, revoked and expired tokens answer 401 (`invalid_refresh_token`,
    /// `refresh_token_expired`); refusals are counted per address (429 beyond the budget).
    func resume(_ request: RefreshRequest, clientAddress: String) async throws -> SessionResponse {
        if let wait = await failedRefreshesByAddress.take(clientAddress) { throw APIError.tooManyRequests(retryAfter: wait) }
        guard (1...128).contains(request.refreshToken.utf8.count) else {
            ControlPlaneMetrics.refreshFailures.increment()
            throw APIError(.unauthorized, "invalid_refresh_token", "unknown or revoked refresh token")
        }
        let now = now()
        let session = SessionToken.generate()
        let next = SessionGrant(tokenHash: session.hash, createdAt: now, expiresAt: now.addingTimeInterval(sessionLifetime))
        let refresh = newRefreshGrant(at: now)
        let outcome: RefreshRotation
        do {
            outcome = try await store.rotateRefreshToken(SessionToken.hash(request.refreshToken), next: next, nextRefresh: refresh.grant, at: now)
        } catch {
            await failedRefreshesByAddress.refund(clientAddress)  // nothing was decided
            throw error
        }
        switch outcome {
        case .rotated(let identity, let ended):
            await failedRefreshesByAddress.refund(clientAddress)
            await end(ended)
            ControlPlaneMetrics.refreshes.increment()
            let tokens = IssuedTokens(token: session.token, expiresAt: next.expiresAt, refreshToken: refresh.token, refreshExpiresAt: refresh.grant.expiresAt)
            return tokens.response(try await me(identity))
        case .reused(let revoked):
            await end(revoked)
            ControlPlaneMetrics.refreshFailures.increment()
            throw APIError(
                .unauthorized, "refresh_token_reused", "this refresh token was used before; its login has been revoked everywhere: log in again")
        case .expired:
            ControlPlaneMetrics.refreshFailures.increment()
            throw APIError(.unauthorized, "refresh_token_expired", "the refresh token has expired: log in again")
        case .invalid:
            ControlPlaneMetrics.refreshFailures.increment()
            throw APIError(.unauthorized, "invalid_refresh_token", "unknown or revoked refresh token")
        }
    }

    /// What a device id must be: 16 to 128 printable ASCII characters (no spaces).
    static func validateDeviceID(_ id: String) throws {
        guard (16...128).contains(id.utf8.count), id.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError.invalid("device_id must be 16 to 128 printable ASCII characters, without spaces", code: "invalid_device_id")
        }
    }

    /// Logs in to the account of a device id, creating it first when there is none (`created`
    /// then). The account has no password and no address; its username (`player_` and ten
    /// random characters) and display name are generated, and ``setCredentials(_:_:clientAddress:)``
    /// can give it a username and password later. Only the id's keyed hash is stored. Every
    /// request takes from the per-address device budget; creating an account also takes from
    /// the registration budget.
    func deviceLogin(_ request: DeviceLogin, clientAddress: String) async throws -> (SessionResponse, created: Bool) {
        try Self.validateDeviceID(request.deviceId)
        if let wait = await deviceLoginsByAddress.take(clientAddress) { throw APIError.tooManyRequests(retryAfter: wait) }
        let deviceHash = vault.deviceHash(request.deviceId)
        if let existing = try await store.account(deviceHash: deviceHash) {
            return (try await openSession(for: existing), false)
        }
        if let wait = await registrationsByAddress.take(clientAddress) { throw APIError.tooManyRequests(retryAfter: wait) }
        for _ in 0..<4 {
            let suffix = Self.randomSuffix()
            let (grant, tokens) = newGrant()
            let account = NewAccount(
                username: "player_" + suffix, displayName: "Player " + suffix.prefix(4).uppercased(), sealedEmail: Data(),
                emailClaim: Self.unclaimedEmailHash(), passwordHash: nil, createdAt: grant.createdAt, deviceHash: deviceHash)
            do {
                let created = try await store.createAccount(account, firstSession: grant)
                ControlPlaneMetrics.registrations.increment()
                return (tokens.response(profile(created)), true)
            } catch StoreError.duplicateUsername {
                continue  // a generated name already taken: another draw
            } catch StoreError.duplicateDevice {
                // The same device's other request created it since the lookup above.
                guard let existing = try await store.account(deviceHash: deviceHash) else { throw StoreError.duplicateDevice }
                await registrationsByAddress.refund(clientAddress)
                return (try await openSession(for: existing), false)
            }
        }
        throw APIError(.serviceUnavailable, "busy", "no free generated username was found: try again")
    }

    /// Ten random characters of a-z and 0-9 (51 bits).
    static func randomSuffix() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<10).map { _ in alphabet[Int(randombytes_uniform(UInt32(alphabet.count)))] })
    }

    private func openSession(for account: Account) async throws -> SessionResponse {
        let (grant, tokens) = newGrant()
        try await store.openSession(grant, for: account.id)
        return tokens.response(profile(account))
    }

    /// Gives an account without a password (a device account) a username, a password and
    /// optionally an address, after which it logs in by password like any other (its device id
    /// keeps working too). The username is checked as at registration (409 `username_taken`),
    /// the address likewise never revealed (see ``register(_:clientAddress:)``); an account that
    /// has a password answers 409 `password_already_set` (changing a password is another
    /// matter). Each call costs a password hash, so it takes from the registration budget.
    func setCredentials(_ identity: Identity, _ upgrade: CredentialsUpgrade, clientAddress: String) async throws -> PrivateProfile {
        try Self.validateUsername(upgrade.username)
        try Self.validatePassword(upgrade.password)
        if let email = upgrade.email { try Self.validateEmail(email) }
        guard let account = try await store.account(id: identity.playerID) else { throw APIError.unauthorized }
        guard account.passwordHash == nil else { throw Self.passwordAlreadySet }
        if let wait = await registrationsByAddress.take(clientAddress) { throw APIError.tooManyRequests(retryAfter: wait) }
        let passwordHash: String
        do {
            passwordHash = try await hasher.hash(upgrade.password)
        } catch {
            await registrationsByAddress.refund(clientAddress)
            throw error
        }
        var credentials = NewCredentials(username: upgrade.username, passwordHash: passwordHash)
        if let email = upgrade.email {
            let claim = vault.keyedHash(email)
            credentials.sealedEmail = vault.seal(email)
            credentials.emailClaim = try await store.isEmailClaimed(claim) ? Self.unclaimedEmailHash() : claim
        }
        let updated: Account
        do {
            do {
                updated = try await store.setCredentials(credentials, of: identity.playerID)
            } catch StoreError.duplicateEmail {
                credentials.emailClaim = Self.unclaimedEmailHash()
                updated = try await store.setCredentials(credentials, of: identity.playerID)
            }
        } catch StoreError.duplicateUsername {
            throw APIError.conflict("that username is taken", code: "username_taken")
        } catch StoreError.passwordAlreadySet {
            throw Self.passwordAlreadySet
        }
        // The username changed: every control port forgets the player's cached identities.
        await revocations.announce(.player(identity.playerID))
        await knownAddresses.insert(upgrade.username.lowercased(), clientAddress)
        return profile(updated)
    }

    static let passwordAlreadySet = APIError.conflict("this account has a password already", code: "password_already_set")

    /// The caller's profile, from the session cache when it remembers the account.
    func me(_ identity: Identity) async throws -> PrivateProfile {
        let now = now()
        if let cached = sessions.account(id: identity.playerID, at: now) { return profile(cached) }
        let epoch = sessions.epoch
        guard let account = try await store.account(id: identity.playerID) else { throw APIError.unauthorized }
        sessions.remember(account, at: now, readAtEpoch: epoch)
        return profile(account)
    }

    func update(_ identity: Identity, _ update: ProfileUpdate) async throws -> PrivateProfile {
        if let name = update.displayName {
            let clean = try Self.validateDisplayName(name)
            try await store.setDisplayName(clean, of: identity.playerID)
            await revocations.announce(.player(identity.playerID))
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
        router.post("/v1/accounts/device") { request, context -> EditedResponse<Accounts.SessionResponse> in
            let body = try await request.json(Accounts.DeviceLogin.self, context: context)
            let (session, created) = try await accounts.deviceLogin(body, clientAddress: context.clientAddress)
            return EditedResponse(status: created ? .created : .ok, response: session)
        }
        // With a refresh token in the body: a resume (no bearer token needed). Without a body:
        // the older exchange of the bearer access token for a new one.
        router.post("/v1/sessions/refresh") { request, context -> Accounts.SessionResponse in
            var request = request
            if try await request.collectedBody(context: context).readableBytes == 0, request.headers[.authorization] != nil {
                guard let token = AuthMiddleware.token(in: request), let identity = try await accounts.identity(forToken: token) else {
                    throw APIError.unauthorized
                }
                return try await accounts.exchange(identity)
            }
            let body = try await request.json(Accounts.RefreshRequest.self, context: context)
            return try await accounts.resume(body, clientAddress: context.clientAddress)
        }
        group.post("/v1/me/credentials") { request, context -> Accounts.PrivateProfile in
            let body = try await request.json(Accounts.CredentialsUpgrade.self, context: context)
            return try await accounts.setCredentials(try context.requireIdentity(), body, clientAddress: context.clientAddress)
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
