import Foundation
import GRDB

/// One Codable record per table, columns named as in the schema.
struct PlayerRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "players"
    var id: Int64?
    var username: String
    var displayName: String
    var email: Data
    var emailHash: Data
    /// '' for an account without a password.
    var passwordHash: String
    var createdAt: Date
    var deviceHash: Data?

    enum CodingKeys: String, CodingKey {
        case id, username, email
        case displayName = "display_name"
        case emailHash = "email_hash"
        case passwordHash = "password_hash"
        case createdAt = "created_at"
        case deviceHash = "device_hash"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct AuthSessionRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "auth_sessions"
    var id: Int64?
    var playerID: Int64
    var tokenHash: Data
    var createdAt: Date
    var expiresAt: Date
    var revokedAt: Date?
    var familyID: Int64?

    enum CodingKeys: String, CodingKey {
        case id
        case playerID = "player_id"
        case tokenHash = "token_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case familyID = "family_id"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct FriendshipRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "friendships"
    var id: Int64?
    var requesterID: Int64
    var addresseeID: Int64
    var status: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, status
        case requesterID = "requester_id"
        case addresseeID = "addressee_id"
        case createdAt = "created_at"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct GameRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "games"
    var id: Int64?
    var name: String
    var description: String
    var createdBy: Int64
    var mode: String
    var maxPlayers: Int
    var tickRate: Int
    var scoreLimit: Int
    var timeLimitSeconds: Int
    var visibility: String
    var status: String
    var createdAt: Date
    var map: String = "default"

    enum CodingKeys: String, CodingKey {
        case id, name, description, mode, visibility, status, map
        case createdBy = "created_by"
        case maxPlayers = "max_players"
        case tickRate = "tick_rate"
        case scoreLimit = "score_limit"
        case timeLimitSeconds = "time_limit_seconds"
        case createdAt = "created_at"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct GameMemberRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "game_members"
    var gameID: Int64
    var playerID: Int64
    var joinedAt: Date

    enum CodingKeys: String, CodingKey {
        case gameID = "game_id"
        case playerID = "player_id"
        case joinedAt = "joined_at"
    }
}

struct InviteRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "invites"
    var id: Int64?
    var gameID: Int64
    var inviterID: Int64
    var inviteeID: Int64
    var status: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, status
        case gameID = "game_id"
        case inviterID = "inviter_id"
        case inviteeID = "invitee_id"
        case createdAt = "created_at"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct GameSessionRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "game_sessions"
    var id: Int64?
    var gameID: Int64
    var matchID: Int64
    var serverAddress: String
    var startTime: Date
    var endTime: Date?
    var status: String
    /// The game's time limit when the match started (what the janitor measures it by).
    var timeLimitSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case id, status
        case gameID = "game_id"
        case matchID = "match_id"
        case serverAddress = "server_address"
        case startTime = "start_time"
        case endTime = "end_time"
        case timeLimitSeconds = "time_limit_seconds"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct PlayerGameSessionRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "player_game_sessions"
    var id: Int64?
    var playerID: Int64
    var gameSessionID: Int64
    var startTime: Date
    var endTime: Date?
    var score: Int?
    var kills: Int?
    var deaths: Int?
    var placement: Int?
    var timePlayedSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case id, score, kills, deaths, placement
        case playerID = "player_id"
        case gameSessionID = "game_session_id"
        case startTime = "start_time"
        case endTime = "end_time"
        case timePlayedSeconds = "time_played_seconds"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

struct PlayerStatisticsRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "player_statistics"
    var playerID: Int64
    var gamesPlayed = 0
    var wins = 0
    var kills = 0
    var deaths = 0
    var totalScore = 0
    var bestScore = 0
    var timePlayedSeconds = 0.0

    enum CodingKeys: String, CodingKey {
        case wins, kills, deaths
        case playerID = "player_id"
        case gamesPlayed = "games_played"
        case totalScore = "total_score"
        case bestScore = "best_score"
        case timePlayedSeconds = "time_played_seconds"
    }
}

struct ChatMessageRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "chat_messages"
    var id: Int64?
    var channel: String
    var senderID: Int64
    var body: String
    var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, channel, body
        case senderID = "sender_id"
        case createdAt = "created_at"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

// MARK: Between records and the stores' domain values

extension PlayerRecord {
    /// The account; `id` is the row's (records read from the database always have one).
    func account(id: Int64) -> Account {
        Account(
            id: id, username: username, displayName: displayName, sealedEmail: email, passwordHash: passwordHash.isEmpty ? nil : passwordHash,
            createdAt: createdAt)
    }
}

extension GameRecord {
    init(_ game: Game, id: Int64?) {
        self.init(
            id: id, name: game.name, description: game.description, createdBy: game.createdBy, mode: game.mode,
            maxPlayers: game.maxPlayers, tickRate: game.tickRate, scoreLimit: game.scoreLimit, timeLimitSeconds: game.timeLimitSeconds,
            visibility: game.visibility, status: game.status.rawValue, createdAt: game.createdAt, map: game.map)
    }

    func game(id: Int64) -> Game {
        Game(
            id: id, name: name, description: description, createdBy: createdBy, mode: mode, maxPlayers: maxPlayers, tickRate: tickRate,
            scoreLimit: scoreLimit, timeLimitSeconds: timeLimitSeconds, visibility: visibility,
            // The column's CHECK allows only the two.
            status: GameStatus(rawValue: status) ?? .closed, createdAt: createdAt, map: map)
    }
}

extension GameSessionRecord {
    init(_ session: NewGameSession) {
        self.init(
            id: nil, gameID: session.gameID, matchID: Int64(bitPattern: session.matchID), serverAddress: session.serverAddress,
            startTime: session.startTime, endTime: nil, status: SessionStatus.running.rawValue, timeLimitSeconds: session.timeLimitSeconds)
    }

    func session(id: Int64) -> GameSession {
        GameSession(
            id: id, gameID: gameID, matchID: UInt64(bitPattern: matchID), serverAddress: serverAddress, startTime: startTime,
            endTime: endTime,
            // The column's CHECK allows only these.
            status: SessionStatus(rawValue: status) ?? .abandoned, timeLimitSeconds: timeLimitSeconds)
    }
}

extension PlayerStatisticsRecord {
    var statistics: PlayerStatistics {
        PlayerStatistics(
            gamesPlayed: gamesPlayed, wins: wins, kills: kills, deaths: deaths, totalScore: totalScore, bestScore: bestScore,
            timePlayedSeconds: timePlayedSeconds)
    }
}
