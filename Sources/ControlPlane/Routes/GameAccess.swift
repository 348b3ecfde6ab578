/// Who may see a game, shared by every route that names one (games, their leaderboards, their
/// chat channels).
enum GameAccess {
    /// Members, the owner and invited players may see a private game.
    static func isVisible(_ game: Game, _ standing: GameStanding, to player: Int64) -> Bool {
        game.isPublic || game.createdBy == player || standing.isMember || standing.hasInvite
    }

    /// 404 for those who may not see the game, so that a private game's existence is not revealed.
    static func requireVisible(_ game: Game, _ standing: GameStanding, to player: Int64) throws {
        guard isVisible(game, standing, to: player) else { throw APIError.notFound("game") }
    }

    /// 404 for those who may not see the game, 403 for others but its creator.
    static func requireOwner(_ game: Game, _ standing: GameStanding, _ player: Int64) throws {
        try requireVisible(game, standing, to: player)
        guard game.createdBy == player else { throw APIError.forbidden("only the game's creator may do that") }
    }

    /// The game (as `player` stands toward it) when they may see it; 404 otherwise.
    static func visibleGame(
        _ id: Int64, to player: Int64, in games: any GameStore
    ) async throws -> (listing: GameListing, standing: GameStanding) {
        guard let found = try await games.game(id, for: player) else { throw APIError.notFound("game") }
        try requireVisible(found.listing.game, found.standing, to: player)
        return found
    }
}
