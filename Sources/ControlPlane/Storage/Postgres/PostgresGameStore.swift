import Foundation
import PostgresNIO

/// ``GameStore`` on the PostgreSQL database.
///
/// Where SQLite's one writer makes a read and the write it decides one step, this takes the
/// rows' locks first: the game's for edits, invites and leaving, the capped player's for counts.
/// Games are always locked before players, so that two transactions never wait on each other.
struct PostgresGameStore: GameStore {
    let database: PostgresDatabase
    private var logger: Logger { database.logger }

    private static let columns = """
        g.id, g.name, g.description, g.created_by, g.mode, g.max_players, g.tick_rate, g.score_limit, g.time_limit_seconds, g.visibility,
        g.status, g.created_at, g.map, (SELECT count(*) FROM game_members m WHERE m.game_id = g.id)
        """

    private static func listing(_ row: PostgresRow) throws -> GameListing {
        let (id, name, description, createdBy, mode, maxPlayers, tickRate, scoreLimit, timeLimit, visibility, status, createdAt, map, members) =
            try row.decode((Int64, String, String, Int64, String, Int, Int, Int, Int, String, String, Date, String, Int).self)
        let game = Game(
            id: id, name: name, description: description, createdBy: createdBy, mode: mode, maxPlayers: maxPlayers, tickRate: tickRate,
            scoreLimit: scoreLimit, timeLimitSeconds: timeLimit, visibility: visibility,
            // The column's CHECK allows only the two.
            status: GameStatus(rawValue: status) ?? .closed, createdAt: createdAt, map: map)
        return GameListing(game: game, memberCount: members)
    }

    /// The game as stored, with its member count; with `lock`, its row stays locked until the
    /// transaction ends.
    private static func listing(_ id: Int64, lock: Bool = false, _ connection: PostgresConnection, logger: Logger) async throws -> GameListing? {
        let rows = try await connection.rows(
            "SELECT \(unescaped: columns) FROM games g WHERE g.id = \(id)\(unescaped: lock ? " FOR NO KEY UPDATE OF g" : "")", logger: logger)
        return try rows.first.map(listing)
    }

    private static func standing(of player: Int64, in game: Int64, _ connection: PostgresConnection, logger: Logger) async throws -> GameStanding {
        let rows = try await connection.rows(
            """
            SELECT EXISTS (SELECT 1 FROM game_members WHERE game_id = \(game) AND player_id = \(player)),
                EXISTS (SELECT 1 FROM invites WHERE game_id = \(game) AND invitee_id = \(player) AND status <> 'declined')
            """, logger: logger)
        guard let row = rows.first else { return GameStanding(isMember: false, hasInvite: false) }
        let (isMember, hasInvite) = try row.decode((Bool, Bool).self)
        return GameStanding(isMember: isMember, hasInvite: hasInvite)
    }

    private static func lockPlayer(_ id: Int64, _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.run("SELECT id FROM players WHERE id = \(id) FOR NO KEY UPDATE", logger: logger)
    }

    func createGame(_ game: Game, maxOpenPerCreator: Int) async throws -> GameListing {
        try await database.transaction { connection in
            try await Self.lockPlayer(game.createdBy, connection, logger: logger)
            let open = try await connection.rows(
                "SELECT count(*) FROM games WHERE created_by = \(game.createdBy) AND status = 'open'", logger: logger
            ).first?.decode(Int.self) ?? 0
            guard open < maxOpenPerCreator else { throw StoreError.capReached(held: open) }
            let inserted = try await connection.rows(
                """
                INSERT INTO games (name, description, created_by, mode, max_players, tick_rate, score_limit, time_limit_seconds, visibility,
                    status, created_at, map)
                VALUES (\(game.name), \(game.description), \(game.createdBy), \(game.mode), \(game.maxPlayers), \(game.tickRate), \(game.scoreLimit),
                    \(game.timeLimitSeconds), \(game.visibility), \(game.status.rawValue), \(game.createdAt), \(game.map))
                RETURNING id
                """, logger: logger)
            guard let id = try inserted.first?.decode(Int64.self) else { throw PostgresStoreInconsistency(what: "an insert returned no id") }
            try await connection.run(
                "INSERT INTO game_members (game_id, player_id, joined_at) VALUES (\(id), \(game.createdBy), \(Date()))", logger: logger)
            try await connection.run(
                "INSERT INTO leaderboards (key, operator) VALUES (\(BoardKey.game(id)), \(ScoreOperator.best.rawValue))", logger: logger)
            guard let listing = try await Self.listing(id, connection, logger: logger) else {
                throw PostgresStoreInconsistency(what: "a game vanished in its own transaction")
            }
            return listing
        }
    }

    func game(_ id: Int64, for player: Int64) async throws -> (listing: GameListing, standing: GameStanding)? {
        // One transaction (REPEATABLE READ is not needed: a standing a moment newer than the
        // listing is what two reads on SQLite could give too).
        try await database.transaction { connection -> (listing: GameListing, standing: GameStanding)? in
            guard let listing = try await Self.listing(id, connection, logger: logger) else { return nil }
            return (listing, try await Self.standing(of: player, in: id, connection, logger: logger))
        }
    }

    func openPublicGames(after cursor: Int64, limit: Int) async throws -> [GameListing] {
        try await database.rows(
            """
            SELECT \(unescaped: Self.columns) FROM games g WHERE g.status = 'open' AND g.visibility = 'public' AND g.id > \(cursor)
            ORDER BY g.id LIMIT \(limit)
            """
        ).map(Self.listing)
    }

    func updateGame(
        _ id: Int64, by player: Int64, _ edit: @escaping @Sendable (inout Game, GameStanding) throws -> Void
    ) async throws -> GameListing {
        try await database.transaction { connection in
            guard let stored = try await Self.listing(id, lock: true, connection, logger: logger)?.game else { throw StoreError.notFound(.game) }
            var game = stored
            try edit(&game, try await Self.standing(of: player, in: id, connection, logger: logger))
            try await connection.run(
                """
                UPDATE games SET name = \(game.name), description = \(game.description), mode = \(game.mode), max_players = \(game.maxPlayers),
                    tick_rate = \(game.tickRate), score_limit = \(game.scoreLimit), time_limit_seconds = \(game.timeLimitSeconds),
                    visibility = \(game.visibility), status = \(game.status.rawValue), map = \(game.map)
                WHERE id = \(id)
                """, logger: logger)
            guard let listing = try await Self.listing(id, connection, logger: logger) else {
                throw PostgresStoreInconsistency(what: "a game vanished in its own transaction")
            }
            return listing
        }
    }

    func invite(
        _ invitee: Int64, to gameID: Int64, from inviter: Int64, maxPending: Int, check: @escaping GameCheck
    ) async throws -> Invite {
        try await database.transaction { connection in
            guard let game = try await Self.listing(gameID, lock: true, connection, logger: logger)?.game else { throw StoreError.notFound(.game) }
            try check(game, try await Self.standing(of: inviter, in: gameID, connection, logger: logger))
            let member = try await connection.rows(
                "SELECT 1 FROM game_members WHERE game_id = \(gameID) AND player_id = \(invitee)", logger: logger)
            if !member.isEmpty { throw StoreError.alreadyMember }
            try await Self.lockPlayer(inviter, connection, logger: logger)
            let pending = try await connection.rows(
                "SELECT count(*) FROM invites WHERE inviter_id = \(inviter) AND status = 'pending'", logger: logger
            ).first?.decode(Int.self) ?? 0
            guard pending < maxPending else { throw StoreError.capReached(held: pending) }
            let now = Date()
            let existing = try await connection.rows(
                "SELECT id, status FROM invites WHERE game_id = \(gameID) AND invitee_id = \(invitee)", logger: logger)
            let written: [PostgresRow]
            if let row = existing.first {
                let (id, status) = try row.decode((Int64, String).self)
                guard status == Invite.Status.declined.rawValue else { throw StoreError.alreadyExists }
                written = try await connection.rows(
                    "UPDATE invites SET status = 'pending', inviter_id = \(inviter), created_at = \(now) WHERE id = \(id) RETURNING id, created_at",
                    logger: logger)
            } else {
                written = try await connection.rows(
                    """
                    INSERT INTO invites (game_id, inviter_id, invitee_id, status, created_at) VALUES (\(gameID), \(inviter), \(invitee), 'pending', \(now))
                    RETURNING id, created_at
                    """, logger: logger)
            }
            guard let row = written.first else { throw PostgresStoreInconsistency(what: "an invite write returned no row") }
            let (id, createdAt) = try row.decode((Int64, Date).self)
            let inviterName = try await connection.rows("SELECT username FROM players WHERE id = \(inviter)", logger: logger).first?.decode(String.self)
            return Invite(
                id: id, gameID: gameID, gameName: game.name, inviterID: inviter, inviterName: inviterName ?? "", inviteeID: invitee,
                status: .pending, createdAt: createdAt)
        }
    }

    func pendingInvites(for invitee: Int64, after cursor: Int64, limit: Int) async throws -> [Invite] {
        try await database.rows(
            """
            SELECT i.id, i.game_id, g.name, i.inviter_id, p.username, i.invitee_id, i.created_at
            FROM invites i JOIN games g ON g.id = i.game_id JOIN players p ON p.id = i.inviter_id
            WHERE i.invitee_id = \(invitee) AND i.status = 'pending' AND i.id > \(cursor) ORDER BY i.id LIMIT \(limit)
            """
        ).map { row in
            let (id, gameID, gameName, inviterID, inviterName, inviteeID, createdAt) =
                try row.decode((Int64, Int64, String, Int64, String, Int64, Date).self)
            return Invite(
                id: id, gameID: gameID, gameName: gameName, inviterID: inviterID, inviterName: inviterName, inviteeID: inviteeID, status: .pending,
                createdAt: createdAt)
        }
    }

    @discardableResult
    func answerInvite(_ id: Int64, by invitee: Int64, accept: Bool) async throws -> Invite {
        try await database.transaction { connection in
            let status = accept ? Invite.Status.accepted : .declined
            // The UPDATE's own WHERE decides: of two racing answers, the second finds it answered.
            let answered = try await connection.rows(
                """
                UPDATE invites SET status = \(status.rawValue) WHERE id = \(id) AND invitee_id = \(invitee) AND status = 'pending'
                RETURNING game_id, inviter_id, created_at
                """, logger: logger)
            guard let row = answered.first else { throw StoreError.notFound(.invite) }
            let (gameID, inviterID, createdAt) = try row.decode((Int64, Int64, Date).self)
            if accept {
                try await connection.run(
                    "INSERT INTO game_members (game_id, player_id, joined_at) VALUES (\(gameID), \(invitee), \(Date())) ON CONFLICT DO NOTHING",
                    logger: logger)
            }
            let names = try await connection.rows(
                "SELECT g.name, p.username FROM games g, players p WHERE g.id = \(gameID) AND p.id = \(inviterID)", logger: logger)
            let (gameName, inviterName) = try names.first?.decode((String, String).self) ?? ("", "")
            return Invite(
                id: id, gameID: gameID, gameName: gameName, inviterID: inviterID, inviterName: inviterName, inviteeID: invitee, status: status,
                createdAt: createdAt)
        }
    }

    func leave(_ gameID: Int64, player: Int64, at now: Date, check: @escaping GameCheck) async throws {
        try await database.transaction { connection in
            guard let game = try await Self.listing(gameID, lock: true, connection, logger: logger)?.game else { throw StoreError.notFound(.game) }
            try check(game, try await Self.standing(of: player, in: gameID, connection, logger: logger))
            let removed = try await connection.rows(
                "DELETE FROM game_members WHERE game_id = \(gameID) AND player_id = \(player) RETURNING 1", logger: logger)
            guard !removed.isEmpty else { throw StoreError.notFound(.membership) }
            try await connection.run(
                """
                UPDATE player_game_sessions SET end_time = \(now) WHERE player_id = \(player) AND end_time IS NULL
                AND game_session_id IN (SELECT id FROM game_sessions WHERE game_id = \(gameID) AND status = 'running')
                """, logger: logger)
        }
    }
}
