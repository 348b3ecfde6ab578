import Foundation
import GRDB
import Hummingbird

/// Accounts, sessions and profiles.
public final class Accounts: Sendable {
    let database: AppDatabase
    let hasher: PasswordHasher
    let vault: EmailVault
    let sessionLifetime: TimeInterval
    private let failedLoginsByAccount = RateLimiter(rule: .init(rate: 5.0 / 60, burst: 5))
    private let failedLoginsByAddress = RateLimiter(rule: .init(rate: 20.0 / 60, burst: 20))
    /// A hash of a random password, verified against when the username is unknown, so that
    /// response time does not reveal which usernames exist.
    private let decoyHash: String

    init(database: AppDatabase, hasher: PasswordHasher, vault: EmailVault, sessionLifetime: TimeInterval) async throws {
        self.database = database
        self.hasher = hasher
        self.vault = vault
        self.sessionLifetime = sessionLifetime
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
        guard (3...32).contains(username.count), allowed else {
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

    static func validateDisplayName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...32).contains(trimmed.count), trimmed.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) }) else {
            throw APIError.invalid("display_name must be 1 to 32 printable characters", code: "invalid_display_name")
        }
        return trimmed
    }

    func register(_ registration: Registration) async throws -> SessionResponse {
        try Self.validateUsername(registration.username)
        try Self.validateEmail(registration.email)
        try Self.validatePassword(registration.password)
        let displayName = try Self.validateDisplayName(registration.displayName ?? registration.username)
        let passwordHash = try await hasher.hash(registration.password)
        let now = Date()
        let session = SessionToken.generate()
        do {
            return try await database.writer.write { db in
                var player = PlayerRecord(
                    id: nil, username: registration.username, displayName: displayName,
                    email: self.vault.seal(registration.email), emailHash: self.vault.keyedHash(registration.email),
                    passwordHash: passwordHash, createdAt: now)
                try player.insert(db)
                guard let playerID = player.id else { throw APIError(.internalServerError, "internal", "insert failed") }
                try PlayerStatisticsRecord(playerID: playerID).insert(db)
                var record = AuthSessionRecord(
                    id: nil, playerID: playerID, tokenHash: session.hash, createdAt: now,
                    expiresAt: now.addingTimeInterval(self.sessionLifetime), revokedAt: nil)
                try record.insert(db)
                ControlPlaneMetrics.registrations.increment()
                return SessionResponse(token: session.token, expiresAt: record.expiresAt, player: self.profile(player, playerID))
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            if (error.message ?? "").contains("email") {
                throw APIError.conflict("that email address is already registered", code: "email_taken")
            }
            throw APIError.conflict("that username is taken", code: "username_taken")
        }
    }

    private func profile(_ player: PlayerRecord, _ id: Int64) -> PrivateProfile {
        PrivateProfile(id: id, username: player.username, displayName: player.displayName, email: vault.open(player.email) ?? "", createdAt: player.createdAt)
    }

    func login(_ login: Login, clientAddress: String) async throws -> SessionResponse {
        let accountKey = "account:" + login.username.lowercased()
        let addressKey = "address:" + clientAddress
        if let wait = await failedLoginsByAccount.retryAfter(accountKey) { throw APIError.tooManyRequests(retryAfter: wait) }
        if let wait = await failedLoginsByAddress.retryAfter(addressKey) { throw APIError.tooManyRequests(retryAfter: wait) }
        let player = try await database.writer.read { db in
            try PlayerRecord.filter(Column("username") == login.username).fetchOne(db)
        }
        let valid = try await hasher.verify(login.password, against: player?.passwordHash ?? decoyHash)
        guard valid, let player, let playerID = player.id else {
            _ = await failedLoginsByAccount.take(accountKey)
            _ = await failedLoginsByAddress.take(addressKey)
            ControlPlaneMetrics.loginFailures.increment()
            throw APIError(.unauthorized, "invalid_credentials", "unknown username or wrong password")
        }
        ControlPlaneMetrics.loginSuccesses.increment()
        await failedLoginsByAccount.reset(accountKey)
        let session = try await createSession(for: playerID)
        return SessionResponse(token: session.token, expiresAt: session.expiresAt, player: profile(player, playerID))
    }

    private func createSession(for playerID: Int64) async throws -> (token: String, expiresAt: Date) {
        let session = SessionToken.generate()
        let now = Date()
        let expires = now.addingTimeInterval(sessionLifetime)
        try await database.writer.write { db in
            var record = AuthSessionRecord(id: nil, playerID: playerID, tokenHash: session.hash, createdAt: now, expiresAt: expires, revokedAt: nil)
            try record.insert(db)
        }
        return (session.token, expires)
    }

    func identity(forToken token: String) async throws -> Identity? {
        guard token.utf8.count <= 128 else { return nil }
        let hash = SessionToken.hash(token)
        let now = Date()
        return try await database.writer.read { db -> Identity? in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT s.id AS session_id, p.id AS player_id, p.username AS username
                    FROM auth_sessions s JOIN players p ON p.id = s.player_id
                    WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ?
                    """, arguments: [hash, now])
            guard let row else { return nil }
            return Identity(playerID: row["player_id"], username: row["username"], sessionID: row["session_id"])
        }
    }

    func logout(_ identity: Identity) async throws {
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE auth_sessions SET revoked_at = ? WHERE id = ?", arguments: [Date(), identity.sessionID])
        }
    }

    /// A new token for the same player; the old one stops working.
    func refresh(_ identity: Identity) async throws -> SessionResponse {
        try await logout(identity)
        let session = try await createSession(for: identity.playerID)
        return SessionResponse(token: session.token, expiresAt: session.expiresAt, player: try await me(identity))
    }

    func me(_ identity: Identity) async throws -> PrivateProfile {
        guard let player = try await database.writer.read({ db in try PlayerRecord.fetchOne(db, key: identity.playerID) }) else {
            throw APIError.unauthorized
        }
        return profile(player, identity.playerID)
    }

    func update(_ identity: Identity, _ update: ProfileUpdate) async throws -> PrivateProfile {
        if let name = update.displayName {
            let clean = try Self.validateDisplayName(name)
            try await database.writer.write { db in
                try db.execute(sql: "UPDATE players SET display_name = ? WHERE id = ?", arguments: [clean, identity.playerID])
            }
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

struct PlayerStatistics: ResponseEncodable {
    var gamesPlayed: Int
    var wins: Int
    var kills: Int
    var deaths: Int
    var totalScore: Int
    var bestScore: Int
    var timePlayedSeconds: Double
}

extension PlayerStatisticsRecord {
    var response: PlayerStatistics {
        PlayerStatistics(
            gamesPlayed: gamesPlayed, wins: wins, kills: kills, deaths: deaths, totalScore: totalScore, bestScore: bestScore,
            timePlayedSeconds: timePlayedSeconds)
    }
}

extension ControlPlaneRoutes {
    func addAccountRoutes(public router: Router<ArbiterRequestContext>, authenticated group: RouterGroup<ArbiterRequestContext>) {
        let accounts = services.accounts
        router.post("/v1/accounts") { request, context -> EditedResponse<Accounts.SessionResponse> in
            let body = try await request.json(Accounts.Registration.self, context: context)
            return EditedResponse(status: .created, response: try await accounts.register(body))
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
        let database = services.database
        group.get("/v1/players/:id") { _, context -> PublicProfile in
            let id = try context.parameters.id("id", "player")
            return try await database.writer.read { db in
                guard let player = try PlayerRecord.fetchOne(db, key: id) else { throw APIError.notFound("player") }
                let stats = try PlayerStatisticsRecord.fetchOne(db, key: id) ?? PlayerStatisticsRecord(playerID: id)
                return PublicProfile(id: id, username: player.username, displayName: player.displayName, createdAt: player.createdAt, statistics: stats.response)
            }
        }
        group.get("/v1/players/:id/statistics") { _, context -> PlayerStatistics in
            let id = try context.parameters.id("id", "player")
            return try await database.writer.read { db in
                guard try PlayerRecord.exists(db, key: id) else { throw APIError.notFound("player") }
                return (try PlayerStatisticsRecord.fetchOne(db, key: id) ?? PlayerStatisticsRecord(playerID: id)).response
            }
        }
    }
}
