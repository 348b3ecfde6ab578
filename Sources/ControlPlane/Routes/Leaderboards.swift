import Foundation
import Hummingbird

struct LeaderboardEntryResponse: Codable, Sendable {
    var playerName: String
    var score: Int64
    var rank: Int
    var playerID: Int64

    enum CodingKeys: String, CodingKey {
        case playerName = "player_name"
        case score, rank
        case playerID = "player_id"
    }
}

struct LeaderboardResponse: ResponseEncodable {
    var leaderboard: [LeaderboardEntryResponse]
    var board: String
    var scoreOperator: String
    var total: Int
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case leaderboard, board, total
        case scoreOperator = "operator"
        case nextCursor = "next_cursor"
    }
}

extension ControlPlaneRoutes {
    /// `global`, or a game's board as `game-12` (or `game:12`).
    static func boardKey(_ name: String) -> String? {
        if name == "global" { return BoardKey.global }
        for prefix in ["game-", "game:"] where name.hasPrefix(prefix) {
            if let id = Int64(name.dropFirst(prefix.count)), id > 0 { return BoardKey.game(id) }
        }
        return nil
    }

    func addLeaderboardRoutes(_ group: RouterGroup<ArbiterRequestContext>) {
        let ranking = services.leaderboards
        let games = services.stores.games
        let accounts = services.stores.accounts
        group.get("/v1/leaderboards/:board") { request, context -> LeaderboardResponse in
            let me = try context.requireIdentity().playerID
            guard let name = context.parameters.get("board"), let key = Self.boardKey(name) else { throw APIError.notFound("leaderboard") }
            // A game's board is as visible as the game: a private game's board is 404 to
            // everyone who may not see the game, exactly like the game itself.
            if let gameID = BoardKey.gameID(of: key) {
                guard let (listing, standing) = try await games.game(gameID, for: me),
                    GameAccess.isVisible(listing.game, standing, to: me)
                else { throw APIError.notFound("leaderboard") }
            }
            let limit = try request.queryInt("limit", default: 10, range: 1...100)
            var start = 0
            if let cursor = request.uri.queryParameters.get("cursor") {
                guard let value = Int(cursor), value >= 0, value <= 100_000_000 else { throw APIError.badRequest("invalid cursor", code: "invalid_query") }
                start = value
            }
            var around: Int64?
            if let value = request.uri.queryParameters.get("around") {
                if value == "me" { around = me } else {
                    guard let id = Int64(value), id > 0 else { throw APIError.badRequest("around must be a player id or 'me'", code: "invalid_query") }
                    around = id
                }
            }
            guard let page = try await ranking.page(key, from: start, limit: limit, around: around) else { throw APIError.notFound("leaderboard") }
            let names = try await accounts.usernames(of: page.entries.map(\.entry.playerID))
            return LeaderboardResponse(
                leaderboard: page.entries.map { LeaderboardEntryResponse(playerName: names[$0.entry.playerID] ?? "", score: $0.entry.score, rank: $0.rank, playerID: $0.entry.playerID) },
                board: name, scoreOperator: page.scoreOperator.rawValue, total: page.total, nextCursor: page.nextRank.map(String.init))
        }
    }
}
