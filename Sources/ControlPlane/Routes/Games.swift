import Foundation
import GRDB
import Hummingbird
import MatchContract
import NetProtocol

struct GameSettingsBody: Codable {
    var mode: String?
    var maxPlayers: Int?
    var tickRate: Int?
    var scoreLimit: Int?
    var timeLimitSeconds: Int?
    var visibility: String?
    var map: String?
}

struct GameCreateBody: Decodable {
    var name: String
    var description: String?
    var settings: GameSettingsBody?
}

struct GameUpdateBody: Decodable {
    var name: String?
    var description: String?
    var settings: GameSettingsBody?
}

struct GameSettingsResponse: ResponseEncodable {
    var mode: String
    var maxPlayers: Int
    var tickRate: Int
    var scoreLimit: Int
    var timeLimitSeconds: Int
    var visibility: String
    var map: String
}

struct GameResponse: ResponseEncodable {
    var id: Int64
    var name: String
    var description: String
    var createdBy: Int64
    var status: String
    var settings: GameSettingsResponse
    var createdAt: Date
    var memberCount: Int
}

struct GamePage: ResponseEncodable {
    var games: [GameResponse]
    var nextCursor: String?
}

struct InviteBody: Decodable {
    var username: String?
    var playerId: Int64?
}

struct InviteResponse: ResponseEncodable {
    var id: Int64
    var gameID: Int64
    var gameName: String
    var inviterID: Int64
    var inviterName: String
    var inviteeID: Int64
    var status: String
    var createdAt: Date
}

struct InviteList: ResponseEncodable {
    var invites: [InviteResponse]
    var nextCursor: String?
}

struct JoinResponse: ResponseEncodable {
    var serverAddress: String
    /// 2048 bytes, base64.
    var connectToken: String
    var expiresAt: Date
    var clientID: UInt64
    var matchID: UInt64
    var gameSessionID: Int64
}

struct ScoreboardResponse: ResponseEncodable {
    var gameID: Int64
    var matchID: UInt64?
    var running: Bool
    var scores: [ScoreLine]
}

/// Checks what a request says about a game: its settings against ``MatchSettings``' rules and
/// the hosted catalog, its name and description against their sizes.
enum GameFields {
    /// A new game's settings: the defaults, in the catalog's first mode and its first map.
    static func defaultSettings(_ catalog: GameCatalog) -> MatchSettings {
        let mode = catalog.modes.first ?? MatchSettings().mode
        return MatchSettings(mode: mode, map: catalog.maps(of: mode)?.first ?? MatchSettings().map)
    }

    static func apply(_ body: GameSettingsBody?, to game: inout GameRecord, catalog: GameCatalog, limits: MatchLimits) throws {
        guard let body else { return }
        var settings = game.matchSettings
        if let mode = body.mode {
            // Another mode keeps the map only if that mode has it too.
            if mode != settings.mode, let maps = catalog.maps(of: mode), !maps.contains(settings.map), let first = maps.first { settings.map = first }
            settings.mode = mode
        }
        if let value = body.maxPlayers { settings.maxPlayers = value }
        if let value = body.tickRate { settings.tickRate = value }
        if let value = body.scoreLimit { settings.scoreLimit = value }
        if let value = body.timeLimitSeconds { settings.timeLimitSeconds = value }
        if let value = body.map { settings.map = value }
        do {
            try settings.validate(against: catalog, maxTickRate: limits.maxTickRate)
        } catch {
            throw APIError.invalid(error.message, code: "invalid_settings")
        }
        if let value = body.visibility {
            guard value == "public" || value == "private" else { throw APIError.invalid("visibility must be public or private", code: "invalid_settings") }
            game.visibility = value
        }
        game.matchSettings = settings
    }

    /// Longest game name and description, in UTF-8 bytes: characters (grapheme clusters) are no
    /// measure of size, since one can hold any number of combining marks.
    static let maxNameBytes = 128
    static let maxDescriptionBytes = 4000

    static func validateText(name: String?, description: String?) throws {
        if let name {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...maxNameBytes).contains(trimmed.utf8.count) else {
                throw APIError.invalid("name must be 1 to \(maxNameBytes) bytes of UTF-8", code: "invalid_name")
            }
        }
        if let description, description.utf8.count > maxDescriptionBytes {
            throw APIError.invalid("description must be at most \(maxDescriptionBytes) bytes of UTF-8", code: "invalid_description")
        }
    }
}

extension ControlPlaneRoutes {
    func addGameRoutes(_ group: RouterGroup<ArbiterRequestContext>) {
        let database = services.database
        let hosting = services.hosting
        let minter = services.minter
        let presence = services.presence
        let recorder = services.recorder
        let matchLimits = services.matchLimits
        let chat = services.chat
        let limits = services.limits

        @Sendable func response(_ game: GameRecord, _ db: Database) throws -> GameResponse {
            let members = try GameMemberRecord.filter(Column("game_id") == game.id).fetchCount(db)
            return GameResponse(
                id: game.id ?? 0, name: game.name, description: game.description, createdBy: game.createdBy, status: game.status,
                settings: GameSettingsResponse(
                    mode: game.mode, maxPlayers: game.maxPlayers, tickRate: game.tickRate, scoreLimit: game.scoreLimit,
                    timeLimitSeconds: game.timeLimitSeconds, visibility: game.visibility, map: game.map),
                createdAt: game.createdAt, memberCount: members)
        }

        /// See ``GameAccess/visibleGame(_:to:_:)``.
        @Sendable func visibleGame(_ id: Int64, to player: Int64, _ db: Database) throws -> GameRecord {
            try GameAccess.visibleGame(id, to: player, db)
        }

        @Sendable func ownedGame(_ id: Int64, by player: Int64, _ db: Database) throws -> GameRecord {
            let game = try visibleGame(id, to: player, db)
            guard game.createdBy == player else { throw APIError.forbidden("only the game's creator may do that") }
            return game
        }

        group.post("/v1/games") { request, context -> EditedResponse<GameResponse> in
            let me = try context.requireIdentity().playerID
            let body = try await request.json(GameCreateBody.self, context: context)
            try GameFields.validateText(name: body.name, description: body.description)
            var game = GameRecord(
                id: nil, name: body.name.trimmingCharacters(in: .whitespacesAndNewlines), description: body.description ?? "",
                createdBy: me, mode: "", maxPlayers: 0, tickRate: 0, scoreLimit: 0, timeLimitSeconds: 0,
                visibility: "public", status: "open", createdAt: Date())
            game.matchSettings = GameFields.defaultSettings(hosting.catalog)
            try GameFields.apply(body.settings, to: &game, catalog: hosting.catalog, limits: matchLimits)
            let draft = game
            let created = try await database.writer.write { db -> GameResponse in
                let open = try GameRecord.filter(Column("created_by") == me && Column("status") == "open").fetchCount(db)
                guard open < limits.openGamesPerAccount else {
                    throw APIError.conflict(
                        "an account may have at most \(limits.openGamesPerAccount) open games; close one first", code: "too_many_games")
                }
                var game = draft
                try game.insert(db)
                guard let id = game.id else { throw APIError(.internalServerError, "internal", "insert failed") }
                try GameMemberRecord(gameID: id, playerID: me, joinedAt: Date()).insert(db)
                try db.execute(sql: "INSERT INTO leaderboards (key, operator) VALUES (?, 'best')", arguments: ["game:\(id)"])
                return try response(game, db)
            }
            return EditedResponse(status: .created, response: created)
        }

        group.get("/v1/games") { request, context -> GamePage in
            _ = try context.requireIdentity()
            let limit = try request.queryInt("limit", default: 20, range: 1...100)
            var after: Int64 = 0
            if let cursor = request.uri.queryParameters.get("cursor") {
                guard let value = Int64(cursor), value >= 0 else { throw APIError.badRequest("invalid cursor", code: "invalid_query") }
                after = value
            }
            let cursor = after
            return try await database.writer.read { db in
                let games = try GameRecord
                    .filter(Column("status") == "open" && Column("visibility") == "public" && Column("id") > cursor)
                    .order(Column("id")).limit(limit + 1).fetchAll(db)
                let page = games.prefix(limit)
                return GamePage(
                    games: try page.map { try response($0, db) },
                    nextCursor: games.count > limit ? page.last.flatMap { $0.id.map(String.init) } : nil)
            }
        }

        group.get("/v1/games/:id") { _, context -> GameResponse in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            return try await database.writer.read { db in try response(try visibleGame(id, to: me, db), db) }
        }

        group.patch("/v1/games/:id") { request, context -> GameResponse in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            let body = try await request.json(GameUpdateBody.self, context: context)
            try GameFields.validateText(name: body.name, description: body.description)
            return try await database.writer.write { db in
                var game = try ownedGame(id, by: me, db)
                guard game.status == "open" else { throw APIError.conflict("the game is closed", code: "game_closed") }
                if let name = body.name { game.name = name.trimmingCharacters(in: .whitespacesAndNewlines) }
                if let description = body.description { game.description = description }
                try GameFields.apply(body.settings, to: &game, catalog: hosting.catalog, limits: matchLimits)
                try game.update(db)
                return try response(game, db)
            }
        }

        group.post("/v1/games/:id/close") { _, context -> GameResponse in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            return try await database.writer.write { db in
                var game = try ownedGame(id, by: me, db)
                game.status = "closed"
                try game.update(db)
                return try response(game, db)
            }
        }

        group.post("/v1/games/:id/invites") { request, context -> EditedResponse<InviteResponse> in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            let body = try await request.json(InviteBody.self, context: context)
            let invite = try await database.writer.write { db -> InviteResponse in
                let game = try visibleGame(id, to: me, db)
                guard game.status == "open" else { throw APIError.conflict("the game is closed", code: "game_closed") }
                let isMember = try GameMemberRecord.exists(db, key: ["game_id": id, "player_id": me])
                guard isMember || game.createdBy == me else { throw APIError.forbidden("only members may invite to a game") }
                let invitee: PlayerRecord?
                if let username = body.username {
                    invitee = try PlayerRecord.filter(Column("username") == username).fetchOne(db)
                } else if let playerID = body.playerId {
                    invitee = try PlayerRecord.fetchOne(db, key: playerID)
                } else {
                    throw APIError.invalid("give username or player_id", code: "invalid_invite")
                }
                guard let invitee, let inviteeID = invitee.id else { throw APIError.notFound("player") }
                guard inviteeID != me else { throw APIError.invalid("you cannot invite yourself", code: "invalid_invite") }
                if try GameMemberRecord.exists(db, key: ["game_id": id, "player_id": inviteeID]) {
                    throw APIError.conflict("that player is already a member", code: "already_member")
                }
                let pending = try InviteRecord.filter(Column("inviter_id") == me && Column("status") == "pending").fetchCount(db)
                guard pending < limits.pendingInvitesPerAccount else {
                    throw APIError.conflict(
                        "an account may have at most \(limits.pendingInvitesPerAccount) pending invites out", code: "too_many_invites")
                }
                var record: InviteRecord
                if let existing = try InviteRecord.filter(Column("game_id") == id && Column("invitee_id") == inviteeID).fetchOne(db) {
                    guard existing.status == "declined" else { throw APIError.conflict("that player is already invited", code: "already_invited") }
                    record = existing
                    record.status = "pending"
                    record.inviterID = me
                    record.createdAt = Date()
                    try record.update(db)
                } else {
                    record = InviteRecord(id: nil, gameID: id, inviterID: me, inviteeID: inviteeID, status: "pending", createdAt: Date())
                    try record.insert(db)
                }
                let inviter = try PlayerRecord.fetchOne(db, key: me)
                return InviteResponse(
                    id: record.id ?? 0, gameID: id, gameName: game.name, inviterID: me, inviterName: inviter?.username ?? "",
                    inviteeID: inviteeID, status: record.status, createdAt: record.createdAt)
            }
            return EditedResponse(status: .created, response: invite)
        }

        /// The caller's pending invites in id order, `limit` from after `cursor` (an invite id).
        @Sendable func invites(_ me: Int64, after cursor: Int64 = 0, limit: Int = 50, _ db: Database) throws -> InviteList {
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT i.id, i.game_id, g.name AS game_name, i.inviter_id, p.username AS inviter_name, i.invitee_id, i.status, i.created_at
                    FROM invites i JOIN games g ON g.id = i.game_id JOIN players p ON p.id = i.inviter_id
                    WHERE i.invitee_id = ? AND i.status = 'pending' AND i.id > ? ORDER BY i.id LIMIT ?
                    """, arguments: [me, cursor, limit + 1])
            let page = rows.prefix(limit)
            return InviteList(
                invites: page.map {
                    InviteResponse(
                        id: $0["id"], gameID: $0["game_id"], gameName: $0["game_name"], inviterID: $0["inviter_id"], inviterName: $0["inviter_name"],
                        inviteeID: $0["invitee_id"], status: $0["status"], createdAt: $0["created_at"])
                },
                nextCursor: rows.count > limit ? page.last.map { String($0["id"] as Int64) } : nil)
        }

        group.get("/v1/invites") { request, context -> InviteList in
            let me = try context.requireIdentity().playerID
            let limit = try request.queryInt("limit", default: 50, range: 1...100)
            let cursor = try request.idCursor()
            return try await database.writer.read { db in try invites(me, after: cursor, limit: limit, db) }
        }

        for (action, status) in [("accept", "accepted"), ("decline", "declined")] {
            group.post("/v1/invites/:id/\(action)") { _, context -> InviteList in
                let me = try context.requireIdentity().playerID
                let id = try context.parameters.id("id", "invite")
                return try await database.writer.write { db in
                    // Someone else's invite is "not found": its existence is not the caller's business.
                    guard var invite = try InviteRecord.fetchOne(db, key: id), invite.inviteeID == me, invite.status == "pending" else {
                        throw APIError.notFound("invite")
                    }
                    invite.status = status
                    try invite.update(db)
                    if status == "accepted" {
                        try GameMemberRecord(gameID: invite.gameID, playerID: me, joinedAt: Date()).insert(db, onConflict: .ignore)
                    }
                    return try invites(me, db)
                }
            }
        }

        group.post("/v1/games/:id/join") { _, context -> JoinResponse in
            let identity = try context.requireIdentity()
            let me = identity.playerID
            let id = try context.parameters.id("id", "game")
            // 1. Check the caller may join, and find the running match, if any.
            let (game, running, displayName) = try await database.writer.read { db -> (GameRecord, GameSessionRecord?, String) in
                let game = try visibleGame(id, to: me, db)
                guard game.status == "open" else { throw APIError.conflict("the game is closed", code: "game_closed") }
                let isMember = try GameMemberRecord.exists(db, key: ["game_id": id, "player_id": me])
                let invited = try InviteRecord.filter(Column("game_id") == id && Column("invitee_id") == me && Column("status") != "declined").fetchCount(db) > 0
                guard isMember || invited || game.visibility == "public" else { throw APIError.forbidden("this private game needs an invite") }
                let running = try GameSessionRecord.filter(Column("game_id") == id && Column("status") == "running").order(Column("id").desc).fetchOne(db)
                let name = try PlayerRecord.fetchOne(db, key: me)?.displayName ?? identity.username
                return (game, running, name)
            }
            // 2. A session whose match the game server no longer runs (it crashed, or the match
            //    lapsed unjoined) is closed as abandoned, and a fresh match starts: a token is
            //    only handed out for a match the server holds open for it.
            let reservation = Double(minter.expireSeconds) + 5
            var session = running
            var reserved = false
            if let stale = session {
                reserved = await hosting.reserve(matchID: UInt64(bitPattern: stale.matchID), forSeconds: reservation)
                if !reserved {
                    try await recorder.abandon(matchID: UInt64(bitPattern: stale.matchID))
                    session = nil
                }
            }
            // 3. Start a match when none runs (outside the transaction: it may take a while).
            if session == nil {
                let settings = game.matchSettings
                let placement: MatchPlacement
                do {
                    placement = try await hosting.createMatch(gameID: id, settings: settings)
                } catch {
                    throw APIError(.serviceUnavailable, "no_game_server", "no game server could start a match: \(error)")
                }
                session = try await database.writer.write { db -> GameSessionRecord in
                    // Another join may have raced us here: use its match and let ours lapse unjoined.
                    if let other = try GameSessionRecord.filter(Column("game_id") == id && Column("status") == "running").fetchOne(db) { return other }
                    var record = GameSessionRecord(
                        id: nil, gameID: id, matchID: Int64(bitPattern: placement.matchID), serverAddress: placement.serverAddress.description,
                        startTime: Date(), endTime: nil, status: "running", timeLimitSeconds: game.timeLimitSeconds)
                    try record.insert(db)
                    return record
                }
            }
            // A new match (ours, or one a racing join started) is reserved here.
            guard let session, let sessionID = session.id, let server = NetAddress(session.serverAddress),
                reserved ? true : await hosting.reserve(matchID: UInt64(bitPattern: session.matchID), forSeconds: reservation)
            else {
                throw APIError(.serviceUnavailable, "no_game_server", "the match has no reachable server")
            }
            // 4. Take a place in the match, all or nothing: a full match changes nothing.
            let concurrentLimit = matchLimits.maxConcurrentMatchesPerAccount
            try await database.writer.write { db in
                let active = PlayerGameSessionRecord.filter(Column("game_session_id") == sessionID && Column("end_time") == nil)
                let alreadyIn = try active.filter(Column("player_id") == me).fetchCount(db) > 0
                if !alreadyIn {
                    let elsewhere = try Int.fetchOne(
                        db,
                        sql: """
                            SELECT COUNT(*) FROM player_game_sessions p JOIN game_sessions s ON s.id = p.game_session_id
                            WHERE p.player_id = ? AND p.end_time IS NULL AND s.status = 'running' AND s.id <> ?
                            """, arguments: [me, sessionID]) ?? 0
                    guard elsewhere < concurrentLimit else {
                        throw APIError.conflict(
                            "you are in \(elsewhere) running matches already (at most \(concurrentLimit)); leave one first",
                            code: "too_many_matches")
                    }
                    guard try active.fetchCount(db) < game.maxPlayers else { throw APIError.conflict("the match is full", code: "match_full") }
                    if var earlier = try PlayerGameSessionRecord.filter(Column("game_session_id") == sessionID && Column("player_id") == me).fetchOne(db) {
                        earlier.endTime = nil  // rejoining after leaving
                        try earlier.update(db)
                    } else {
                        var participation = PlayerGameSessionRecord(id: nil, playerID: me, gameSessionID: sessionID, startTime: Date())
                        try participation.insert(db)
                    }
                }
                try GameMemberRecord(gameID: id, playerID: me, joinedAt: Date()).insert(db, onConflict: .ignore)
            }
            let matchID = UInt64(bitPattern: session.matchID)
            let clientID = UInt64(bitPattern: me)
            let token = try minter.mint(server: server, ticket: MatchTicket(matchID: matchID, playerID: clientID, displayName: displayName), clientID: clientID)
            await presence.setInMatch(me, true)
            return JoinResponse(
                serverAddress: server.description, connectToken: Data(token.encoded()).base64EncodedString(),
                expiresAt: Date(timeIntervalSince1970: TimeInterval(min(token.expireTimestamp, UInt64(Int64.max / 2)))),
                clientID: clientID, matchID: matchID, gameSessionID: sessionID)
        }

        group.post("/v1/games/:id/leave") { _, context -> HTTPResponse.Status in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            try await database.writer.write { db in
                let game = try visibleGame(id, to: me, db)
                guard game.createdBy != me else { throw APIError.conflict("the creator cannot leave; close the game instead", code: "owner_cannot_leave") }
                let removed = try GameMemberRecord.filter(Column("game_id") == id && Column("player_id") == me).deleteAll(db)
                guard removed > 0 else { throw APIError.notFound("membership") }
                try db.execute(
                    sql: """
                        UPDATE player_game_sessions SET end_time = ? WHERE player_id = ? AND end_time IS NULL
                        AND game_session_id IN (SELECT id FROM game_sessions WHERE game_id = ? AND status = 'running')
                        """, arguments: [Date(), me, id])
            }
            await presence.setInMatch(me, false)
            await chat.unsubscribe(player: me, from: "game:\(id)", reason: "left_game")
            return .noContent
        }

        group.get("/v1/games/:id/scoreboard") { _, context -> ScoreboardResponse in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            let session = try await database.writer.read { db -> GameSessionRecord? in
                _ = try visibleGame(id, to: me, db)
                return try GameSessionRecord.filter(Column("game_id") == id && Column("status") == "running").order(Column("id").desc).fetchOne(db)
            }
            guard let session else { return ScoreboardResponse(gameID: id, matchID: nil, running: false, scores: []) }
            let matchID = UInt64(bitPattern: session.matchID)
            let scores = await hosting.scoreboard(matchID: matchID)
            return ScoreboardResponse(gameID: id, matchID: matchID, running: scores != nil, scores: scores ?? [])
        }
    }
}

extension GameRecord {
    /// The columns that make up the game's match settings.
    var matchSettings: MatchSettings {
        get {
            MatchSettings(mode: mode, maxPlayers: maxPlayers, tickRate: tickRate, scoreLimit: scoreLimit, timeLimitSeconds: timeLimitSeconds, map: map)
        }
        set {
            mode = newValue.mode
            maxPlayers = newValue.maxPlayers
            tickRate = newValue.tickRate
            scoreLimit = newValue.scoreLimit
            timeLimitSeconds = newValue.timeLimitSeconds
            map = newValue.map
        }
    }
}
