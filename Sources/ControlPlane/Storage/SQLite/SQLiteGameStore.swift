import Foundation
import GRDB

/// ``GameStore`` on the SQLite database.
struct SQLiteGameStore: GameStore {
    let database: AppDatabase

    func createGame(_ game: Game, maxOpenPerCreator: Int) async throws -> GameListing {
        try await database.writer.write { db in
            let open = try GameRecord.filter(Column("created_by") == game.createdBy && Column("status") == GameStatus.open.rawValue).fetchCount(db)
            guard open < maxOpenPerCreator else { throw StoreError.capReached(held: open) }
            var record = GameRecord(game, id: nil)
            try record.insert(db)
            let id = db.lastInsertedRowID
            try GameMemberRecord(gameID: id, playerID: game.createdBy, joinedAt: Date()).insert(db)
            try db.execute(sql: "INSERT INTO leaderboards (key, operator) VALUES (?, ?)", arguments: [BoardKey.game(id), ScoreOperator.best.rawValue])
            return try Self.listing(Self.storedGame(id, db) ?? record.game(id: id), db)
        }
    }

    func game(_ id: Int64, for player: Int64) async throws -> (listing: GameListing, standing: GameStanding)? {
        try await database.writer.read { db in
            guard let record = try GameRecord.fetchOne(db, key: id) else { return nil }
            return (try Self.listing(record.game(id: id), db), try Self.standing(of: player, in: id, db))
        }
    }

    func openPublicGames(after cursor: Int64, limit: Int) async throws -> [GameListing] {
        try await database.writer.read { db in
            try GameRecord
                .filter(Column("status") == GameStatus.open.rawValue && Column("visibility") == "public" && Column("id") > cursor)
                .order(Column("id")).limit(limit).fetchAll(db)
                .compactMap { record in try record.id.map { try Self.listing(record.game(id: $0), db) } }
        }
    }

    func updateGame(
        _ id: Int64, by player: Int64, _ edit: @escaping @Sendable (inout Game, GameStanding) throws -> Void
    ) async throws -> GameListing {
        try await database.writer.write { db in
            guard let stored = try GameRecord.fetchOne(db, key: id) else { throw StoreError.notFound(.game) }
            var game = stored.game(id: id)
            try edit(&game, try Self.standing(of: player, in: id, db))
            game.id = id
            game.createdBy = stored.createdBy
            game.createdAt = stored.createdAt
            try GameRecord(game, id: id).update(db)
            return try Self.listing(Self.storedGame(id, db) ?? game, db)
        }
    }

    func invite(
        _ invitee: Int64, to gameID: Int64, from inviter: Int64, maxPending: Int, check: @escaping GameCheck
    ) async throws -> Invite {
        try await database.writer.write { db in
            guard let game = try GameRecord.fetchOne(db, key: gameID)?.game(id: gameID) else { throw StoreError.notFound(.game) }
            try check(game, try Self.standing(of: inviter, in: gameID, db))
            if try GameMemberRecord.exists(db, key: ["game_id": gameID, "player_id": invitee]) { throw StoreError.alreadyMember }
            let pending = try InviteRecord.filter(Column("inviter_id") == inviter && Column("status") == Invite.Status.pending.rawValue).fetchCount(db)
            guard pending < maxPending else { throw StoreError.capReached(held: pending) }
            var record: InviteRecord
            if let existing = try InviteRecord.filter(Column("game_id") == gameID && Column("invitee_id") == invitee).fetchOne(db) {
                guard existing.status == Invite.Status.declined.rawValue else { throw StoreError.alreadyExists }
                record = existing
                record.status = Invite.Status.pending.rawValue
                record.inviterID = inviter
                record.createdAt = Date()
                try record.update(db)
            } else {
                record = InviteRecord(id: nil, gameID: gameID, inviterID: inviter, inviteeID: invitee, status: Invite.Status.pending.rawValue, createdAt: Date())
                try record.insert(db)
            }
            let id = record.id ?? db.lastInsertedRowID
            let inviterName = try String.fetchOne(db, sql: "SELECT username FROM players WHERE id = ?", arguments: [inviter])
            return Invite(
                id: id, gameID: gameID, gameName: game.name, inviterID: inviter, inviterName: inviterName ?? "", inviteeID: invitee,
                status: .pending, createdAt: try InviteRecord.fetchOne(db, key: id)?.createdAt ?? record.createdAt)
        }
    }

    func pendingInvites(for invitee: Int64, after cursor: Int64, limit: Int) async throws -> [Invite] {
        try await database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT i.id, i.game_id, g.name AS game_name, i.inviter_id, p.username AS inviter_name, i.invitee_id, i.created_at
                    FROM invites i JOIN games g ON g.id = i.game_id JOIN players p ON p.id = i.inviter_id
                    WHERE i.invitee_id = ? AND i.status = 'pending' AND i.id > ? ORDER BY i.id LIMIT ?
                    """, arguments: [invitee, cursor, limit]
            ).map {
                Invite(
                    id: $0["id"], gameID: $0["game_id"], gameName: $0["game_name"], inviterID: $0["inviter_id"], inviterName: $0["inviter_name"],
                    inviteeID: $0["invitee_id"], status: .pending, createdAt: $0["created_at"])
            }
        }
    }

    @discardableResult
    func answerInvite(_ id: Int64, by invitee: Int64, accept: Bool) async throws -> Invite {
        try await database.writer.write { db in
            guard var invite = try InviteRecord.fetchOne(db, key: id), invite.inviteeID == invitee, invite.status == Invite.Status.pending.rawValue
            else { throw StoreError.notFound(.invite) }
            let status = accept ? Invite.Status.accepted : .declined
            invite.status = status.rawValue
            try invite.update(db)
            if accept {
                try GameMemberRecord(gameID: invite.gameID, playerID: invitee, joinedAt: Date()).insert(db, onConflict: .ignore)
            }
            let names = try Row.fetchOne(
                db, sql: "SELECT g.name AS game_name, p.username AS inviter_name FROM games g, players p WHERE g.id = ? AND p.id = ?",
                arguments: [invite.gameID, invite.inviterID])
            return Invite(
                id: id, gameID: invite.gameID, gameName: names?["game_name"] ?? "", inviterID: invite.inviterID,
                inviterName: names?["inviter_name"] ?? "", inviteeID: invitee, status: status, createdAt: invite.createdAt)
        }
    }

    func leave(_ gameID: Int64, player: Int64, at now: Date, check: @escaping GameCheck) async throws {
        try await database.writer.write { db in
            guard let game = try GameRecord.fetchOne(db, key: gameID)?.game(id: gameID) else { throw StoreError.notFound(.game) }
            try check(game, try Self.standing(of: player, in: gameID, db))
            let removed = try GameMemberRecord.filter(Column("game_id") == gameID && Column("player_id") == player).deleteAll(db)
            guard removed > 0 else { throw StoreError.notFound(.membership) }
            try db.execute(
                sql: """
                    UPDATE player_game_sessions SET end_time = ? WHERE player_id = ? AND end_time IS NULL
                    AND game_session_id IN (SELECT id FROM game_sessions WHERE game_id = ? AND status = 'running')
                    """, arguments: [now, player, gameID])
        }
    }

    /// The game as stored (read back after a write, so that the answer is what every later read
    /// gives: dates as stored).
    private static func storedGame(_ id: Int64, _ db: Database) throws -> Game? {
        try GameRecord.fetchOne(db, key: id)?.game(id: id)
    }

    private static func listing(_ game: Game, _ db: Database) throws -> GameListing {
        GameListing(game: game, memberCount: try GameMemberRecord.filter(Column("game_id") == game.id).fetchCount(db))
    }

    private static func standing(of player: Int64, in game: Int64, _ db: Database) throws -> GameStanding {
        GameStanding(
            isMember: try GameMemberRecord.exists(db, key: ["game_id": game, "player_id": player]),
            hasInvite: try InviteRecord.filter(
                Column("game_id") == game && Column("invitee_id") == player && Column("status") != Invite.Status.declined.rawValue
            ).fetchCount(db) > 0)
    }
}
