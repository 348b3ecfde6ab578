import GRDB

/// Who may see a game, shared by every route that names one (games, their leaderboards).
enum GameAccess {
    /// Members, the owner and invited players may see a private game; 404 for others, so a
    /// private game's existence is not revealed.
    static func visibleGame(_ id: Int64, to player: Int64, _ db: Database) throws -> GameRecord {
        guard let game = try GameRecord.fetchOne(db, key: id) else { throw APIError.notFound("game") }
        if game.visibility == "public" || game.createdBy == player { return game }
        if try GameMemberRecord.exists(db, key: ["game_id": id, "player_id": player]) { return game }
        if try InviteRecord.filter(Column("game_id") == id && Column("invitee_id") == player && Column("status") != "declined").fetchCount(db) > 0 {
            return game
        }
        throw APIError.notFound("game")
    }
}
