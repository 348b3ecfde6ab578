import Foundation
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
    /// `GET /v1/play` on this control port, for clients that cannot speak UDP (``PlayURL``).
    var websocketURL: String
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

    static func apply(_ body: GameSettingsBody?, to game: inout Game, catalog: GameCatalog, limits: MatchLimits) throws {
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

extension GameResponse {
    init(_ listing: GameListing) {
        let game = listing.game
        self.init(
            id: game.id, name: game.name, description: game.description, createdBy: game.createdBy, status: game.status.rawValue,
            settings: GameSettingsResponse(
                mode: game.mode, maxPlayers: game.maxPlayers, tickRate: game.tickRate, scoreLimit: game.scoreLimit,
                timeLimitSeconds: game.timeLimitSeconds, visibility: game.visibility, map: game.map),
            createdAt: game.createdAt, memberCount: listing.memberCount)
    }
}

extension InviteResponse {
    init(_ invite: Invite) {
        self.init(
            id: invite.id, gameID: invite.gameID, gameName: invite.gameName, inviterID: invite.inviterID, inviterName: invite.inviterName,
            inviteeID: invite.inviteeID, status: invite.status.rawValue, createdAt: invite.createdAt)
    }
}

extension ControlPlaneRoutes {
    func addGameRoutes(_ group: RouterGroup<ArbiterRequestContext>) {
        let games = services.stores.games
        let matches = services.stores.matches
        let accounts = services.stores.accounts
        let hosting = services.hosting
        let minter = services.minter
        let presence = services.presence
        let recorder = services.recorder
        let matchLimits = services.matchLimits
        let chat = services.chat
        let limits = services.limits

        @Sendable func requireOpen(_ game: Game) throws {
            guard game.status == .open else { throw APIError.conflict("the game is closed", code: "game_closed") }
        }

        group.post("/v1/games") { request, context -> EditedResponse<GameResponse> in
            let me = try context.requireIdentity().playerID
            let body = try await request.json(GameCreateBody.self, context: context)
            try GameFields.validateText(name: body.name, description: body.description)
            var game = Game(
                id: 0, name: body.name.trimmingCharacters(in: .whitespacesAndNewlines), description: body.description ?? "",
                createdBy: me, mode: "", maxPlayers: 0, tickRate: 0, scoreLimit: 0, timeLimitSeconds: 0,
                visibility: "public", status: .open, createdAt: Date())
            game.matchSettings = GameFields.defaultSettings(hosting.catalog)
            try GameFields.apply(body.settings, to: &game, catalog: hosting.catalog, limits: matchLimits)
            do {
                let created = try await games.createGame(game, maxOpenPerCreator: limits.openGamesPerAccount)
                return EditedResponse(status: .created, response: GameResponse(created))
            } catch StoreError.capReached {
                throw APIError.conflict(
                    "an account may have at most \(limits.openGamesPerAccount) open games; close one first", code: "too_many_games")
            }
        }

        group.get("/v1/games") { request, context -> GamePage in
            _ = try context.requireIdentity()
            let limit = try request.queryInt("limit", default: 20, range: 1...100)
            var after: Int64 = 0
            if let cursor = request.uri.queryParameters.get("cursor") {
                guard let value = Int64(cursor), value >= 0 else { throw APIError.badRequest("invalid cursor", code: "invalid_query") }
                after = value
            }
            let listings = try await games.openPublicGames(after: after, limit: limit + 1)
            let page = listings.prefix(limit)
            return GamePage(
                games: page.map(GameResponse.init), nextCursor: listings.count > limit ? page.last.map { String($0.game.id) } : nil)
        }

        group.get("/v1/games/:id") { _, context -> GameResponse in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            return GameResponse(try await GameAccess.visibleGame(id, to: me, in: games).listing)
        }

        group.patch("/v1/games/:id") { request, context -> GameResponse in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            let body = try await request.json(GameUpdateBody.self, context: context)
            try GameFields.validateText(name: body.name, description: body.description)
            return GameResponse(try await games.updateGame(id, by: me) { game, standing in
                try GameAccess.requireOwner(game, standing, me)
                try requireOpen(game)
                if let name = body.name { game.name = name.trimmingCharacters(in: .whitespacesAndNewlines) }
                if let description = body.description { game.description = description }
                try GameFields.apply(body.settings, to: &game, catalog: hosting.catalog, limits: matchLimits)
            })
        }

        group.post("/v1/games/:id/close") { _, context -> GameResponse in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            return GameResponse(try await games.updateGame(id, by: me) { game, standing in
                try GameAccess.requireOwner(game, standing, me)
                game.status = .closed
            })
        }

        group.post("/v1/games/:id/invites") { request, context -> EditedResponse<InviteResponse> in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            let body = try await request.json(InviteBody.self, context: context)
            // Checked here for the answer's order (the game before the invitee), and again by the
            // store in the invite's own transaction.
            let mayInvite: GameCheck = { game, standing in
                try GameAccess.requireVisible(game, standing, to: me)
                try requireOpen(game)
                guard standing.isMember || game.createdBy == me else { throw APIError.forbidden("only members may invite to a game") }
            }
            guard let found = try await games.game(id, for: me) else { throw APIError.notFound("game") }
            try mayInvite(found.listing.game, found.standing)
            let invitee: Account?
            if let username = body.username {
                invitee = try await accounts.account(named: username)
            } else if let playerID = body.playerId {
                invitee = try await accounts.account(id: playerID)
            } else {
                throw APIError.invalid("give username or player_id", code: "invalid_invite")
            }
            guard let invitee else { throw APIError.notFound("player") }
            guard invitee.id != me else { throw APIError.invalid("you cannot invite yourself", code: "invalid_invite") }
            do {
                let invite = try await games.invite(
                    invitee.id, to: id, from: me, maxPending: limits.pendingInvitesPerAccount, check: mayInvite)
                return EditedResponse(status: .created, response: InviteResponse(invite))
            } catch StoreError.alreadyMember {
                throw APIError.conflict("that player is already a member", code: "already_member")
            } catch StoreError.capReached {
                throw APIError.conflict(
                    "an account may have at most \(limits.pendingInvitesPerAccount) pending invites out", code: "too_many_invites")
            } catch StoreError.alreadyExists {
                throw APIError.conflict("that player is already invited", code: "already_invited")
            }
        }

        /// The caller's pending invites in id order, `limit` from after `cursor` (an invite id).
        @Sendable func invites(_ me: Int64, after cursor: Int64 = 0, limit: Int = 50) async throws -> InviteList {
            let invites = try await games.pendingInvites(for: me, after: cursor, limit: limit + 1)
            let page = invites.prefix(limit)
            return InviteList(
                invites: page.map(InviteResponse.init), nextCursor: invites.count > limit ? page.last.map { String($0.id) } : nil)
        }

        group.get("/v1/invites") { request, context -> InviteList in
            let me = try context.requireIdentity().playerID
            let limit = try request.queryInt("limit", default: 50, range: 1...100)
            let cursor = try request.idCursor()
            return try await invites(me, after: cursor, limit: limit)
        }

        for (action, accept) in [("accept", true), ("decline", false)] {
            group.post("/v1/invites/:id/\(action)") { _, context -> InviteResponse in
                let me = try context.requireIdentity().playerID
                let id = try context.parameters.id("id", "invite")
                // Someone else's invite is "not found": its existence is not the caller's business.
                return InviteResponse(try await games.answerInvite(id, by: me, accept: accept))
            }
        }

        let servesTLS = self.servesTLS
        group.post("/v1/games/:id/join") { request, context -> JoinResponse in
            let identity = try context.requireIdentity()
            let me = identity.playerID
            let id = try context.parameters.id("id", "game")
            // 1. Check the caller may join, and find the running match, if any.
            let (listing, standing) = try await GameAccess.visibleGame(id, to: me, in: games)
            let game = listing.game
            try requireOpen(game)
            guard standing.isMember || standing.hasInvite || game.isPublic else { throw APIError.forbidden("this private game needs an invite") }
            let running = try await matches.runningSession(ofGame: id)
            let displayName = try await accounts.account(id: me)?.displayName ?? identity.username
            // 2. A session whose match the game server no longer runs (it crashed, or the match
            //    lapsed unjoined) is closed as abandoned, and a fresh match starts: a token is
            //    only handed out for a match the server holds open for it.
            let reservation = Double(minter.expireSeconds) + 5
            @Sendable func reserve(_ matchID: UInt64) async throws -> Bool {
                do {
                    return try await hosting.reserve(matchID: matchID, forSeconds: reservation)
                } catch {
                    throw APIError(.serviceUnavailable, "no_game_server", "could not tell whether the match still runs; try again")
                }
            }
            var session = running
            var reserved = false
            if let stale = session {
                reserved = try await reserve(stale.matchID)
                if !reserved {
                    try await recorder.abandon(matchID: stale.matchID)
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
                // Another join may have raced us here: the store then gives its match (at most one
                // runs per game), and ours lapses unjoined.
                session = try await matches.startSession(NewGameSession(
                    gameID: id, matchID: placement.matchID, serverAddress: placement.serverAddress.description, startTime: Date(),
                    timeLimitSeconds: game.timeLimitSeconds)).session
            }
            // A new match (ours, or one a racing join started) is reserved here.
            if !reserved, let session { reserved = try await reserve(session.matchID) }
            guard let session, let server = NetAddress(session.serverAddress), reserved else {
                throw APIError(.serviceUnavailable, "no_game_server", "the match has no reachable server")
            }
            // 4. Take a place in the match, all or nothing: a full match changes nothing.
            let concurrentLimit = matchLimits.maxConcurrentMatchesPerAccount
            do {
                try await matches.takeSeat(player: me, in: session, capacity: game.maxPlayers, maxConcurrentMatches: concurrentLimit, at: Date())
            } catch StoreError.capReached(let elsewhere) {
                throw APIError.conflict(
                    "you are in \(elsewhere) running matches already (at most \(concurrentLimit)); leave one first", code: "too_many_matches")
            } catch StoreError.matchFull {
                throw APIError.conflict("the match is full", code: "match_full")
            }
            let clientID = UInt64(bitPattern: me)
            let token = try minter.mint(server: server, ticket: MatchTicket(matchID: session.matchID, playerID: clientID, displayName: displayName), clientID: clientID)
            await presence.setInMatch(me, true)
            return JoinResponse(
                serverAddress: server.description, connectToken: Data(token.encoded()).base64EncodedString(),
                expiresAt: Date(timeIntervalSince1970: TimeInterval(min(token.expireTimestamp, UInt64(Int64.max / 2)))),
                clientID: clientID, matchID: session.matchID, gameSessionID: session.id,
                websocketURL: PlayURL.webSocket(
                    for: request, context: context, servesTLS: servesTLS, endpoint: await hosting.playEndpoint(matchID: session.matchID)))
        }

        // A seatless token for the running match: the game server admits its holder as a
        // spectator (the whole world in its snapshots, no player of its own), beside however many
        // players the match holds, up to its spectator limit. Nothing is stored: a spectator is
        // not a member, never in the standings, and does not keep an empty match alive.
        group.post("/v1/games/:id/watch") { request, context -> JoinResponse in
            let identity = try context.requireIdentity()
            let me = identity.playerID
            let id = try context.parameters.id("id", "game")
            let (listing, standing) = try await GameAccess.visibleGame(id, to: me, in: games)
            let game = listing.game
            try requireOpen(game)
            guard standing.isMember || standing.hasInvite || game.isPublic else { throw APIError.forbidden("this private game needs an invite") }
            guard let session = try await matches.runningSession(ofGame: id), await hosting.scoreboard(matchID: session.matchID) != nil,
                let server = NetAddress(session.serverAddress)
            else {
                throw APIError.conflict("no match of this game is running: join it to start one", code: "no_match")
            }
            let displayName = try await accounts.account(id: me)?.displayName ?? identity.username
            // Not the account's id, which its own seat in the match may be using: a transport
            // client id from the upper half, where no account id lies.
            let clientID = UInt64.random(in: (1 << 63)...UInt64.max)
            let ticket = MatchTicket(matchID: session.matchID, playerID: UInt64(bitPattern: me), displayName: displayName, role: .spectator)
            let token = try minter.mint(server: server, ticket: ticket, clientID: clientID)
            return JoinResponse(
                serverAddress: server.description, connectToken: Data(token.encoded()).base64EncodedString(),
                expiresAt: Date(timeIntervalSince1970: TimeInterval(min(token.expireTimestamp, UInt64(Int64.max / 2)))),
                clientID: clientID, matchID: session.matchID, gameSessionID: session.id,
                websocketURL: PlayURL.webSocket(
                    for: request, context: context, servesTLS: servesTLS, endpoint: await hosting.playEndpoint(matchID: session.matchID)))
        }

        group.post("/v1/games/:id/leave") { _, context -> HTTPResponse.Status in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            try await games.leave(id, player: me, at: Date()) { game, standing in
                try GameAccess.requireVisible(game, standing, to: me)
                guard game.createdBy != me else { throw APIError.conflict("the creator cannot leave; close the game instead", code: "owner_cannot_leave") }
            }
            await presence.setInMatch(me, false)
            await chat.unsubscribe(player: me, from: "game:\(id)", reason: "left_game")
            return .noContent
        }

        group.get("/v1/games/:id/scoreboard") { _, context -> ScoreboardResponse in
            let me = try context.requireIdentity().playerID
            let id = try context.parameters.id("id", "game")
            _ = try await GameAccess.visibleGame(id, to: me, in: games)
            guard let session = try await matches.runningSession(ofGame: id) else {
                return ScoreboardResponse(gameID: id, matchID: nil, running: false, scores: [])
            }
            let scores = await hosting.scoreboard(matchID: session.matchID)
            return ScoreboardResponse(gameID: id, matchID: session.matchID, running: scores != nil, scores: scores ?? [])
        }
    }
}

extension Game {
    /// The fields that make up the game's match settings.
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
