import Foundation
import GRDB
import Hummingbird

/// How a board folds a new result into a player's entry.
enum ScoreOperator: String, Sendable {
    /// Keep the highest.
    case best
    /// Add up.
    case sum
    /// Keep the newest.
    case latest

    func combine(old: Int64?, new: Int64) -> Int64 {
        guard let old else { return new }
        switch self {
        case .best: return max(old, new)
        case .sum: return old &+ new
        case .latest: return new
        }
    }
}

/// The leaderboards, served from memory. A board is loaded from the database on first read;
/// every write of an entry goes through ``apply(_:)`` after its transaction commits, so the
/// cache never serves a stale score, and a failed write drops the board to be reloaded.
public actor LeaderboardCache {
    struct Board {
        var id: Int64
        var scoreOperator: ScoreOperator
        var ranked: RankedBoard
    }

    private let database: AppDatabase
    private var boards: [String: Board] = [:]

    init(database: AppDatabase) { self.database = database }

    func board(_ key: String) async throws -> Board? {
        if let board = boards[key] { return board }
        let loaded = try await database.writer.read { db -> Board? in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, operator FROM leaderboards WHERE key = ?", arguments: [key]),
                let op = ScoreOperator(rawValue: row["operator"])
            else { return nil }
            let id: Int64 = row["id"]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT player_id, score FROM leaderboard_entries WHERE leaderboard_id = ? ORDER BY score DESC, player_id ASC",
                arguments: [id])
            var entries: [RankedBoard.Entry] = []
            while let row = try rows.next() { entries.append(.init(playerID: row["player_id"], score: row["score"])) }
            return Board(id: id, scoreOperator: op, ranked: RankedBoard(sorted: entries))
        }
        if let loaded, boards[key] == nil { boards[key] = loaded }
        return boards[key] ?? loaded
    }

    struct Update: Sendable {
        var boardKey: String
        var playerID: Int64
        var score: Int64
    }

    /// Applies committed writes. Boards not loaded yet are left to load fresh.
    func apply(_ updates: [Update]) {
        for update in updates {
            boards[update.boardKey]?.ranked.set(update.playerID, score: update.score)
        }
    }

    func invalidate(_ key: String) { boards.removeValue(forKey: key) }

    /// For benchmarks and bulk loads: replace a board's cached contents.
    func preload(_ key: String, id: Int64, scoreOperator: ScoreOperator, entries: [RankedBoard.Entry]) {
        boards[key] = Board(id: id, scoreOperator: scoreOperator, ranked: RankedBoard(sorted: entries))
    }

    struct Page: Sendable {
        var entries: [(rank: Int, entry: RankedBoard.Entry)]
        var total: Int
        var nextRank: Int?
        var scoreOperator: ScoreOperator
    }

    /// `limit` entries from 0-based `rank`, or centred on `around` when given.
    func page(_ key: String, from rank: Int, limit: Int, around: Int64?) async throws -> Page? {
        guard let board = try await board(key) else { return nil }
        var start = rank
        if let around {
            guard let position = board.ranked.rank(of: around) else { throw APIError.notFound("player on this leaderboard") }
            start = max(0, position - limit / 2)
        }
        let entries = board.ranked.entries(from: start, limit: limit)
        let next = start + entries.count < board.ranked.count ? start + entries.count : nil
        return Page(
            entries: entries.enumerated().map { (start + $0.offset + 1, $0.element) }, total: board.ranked.count, nextRank: next,
            scoreOperator: board.scoreOperator)
    }
}

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
        if name == "global" { return "global" }
        for prefix in ["game-", "game:"] where name.hasPrefix(prefix) {
            if let id = Int64(name.dropFirst(prefix.count)), id > 0 { return "game:\(id)" }
        }
        return nil
    }

    /// The game a `game:{id}` board belongs to.
    static func gameID(ofBoard key: String) -> Int64? {
        guard key.hasPrefix("game:") else { return nil }
        return Int64(key.dropFirst(5))
    }

    func addLeaderboardRoutes(_ group: RouterGroup<ArbiterRequestContext>) {
        let cache = services.leaderboards
        let database = services.database
        group.get("/v1/leaderboards/:board") { request, context -> LeaderboardResponse in
            let me = try context.requireIdentity().playerID
            guard let name = context.parameters.get("board"), let key = Self.boardKey(name) else { throw APIError.notFound("leaderboard") }
            // A game's board is as visible as the game: a private game's board is 404 to
            // everyone who may not see the game, exactly like the game itself.
            if let gameID = Self.gameID(ofBoard: key) {
                do {
                    _ = try await database.writer.read { db in try GameAccess.visibleGame(gameID, to: me, db) }
                } catch let error as APIError where error.status == .notFound {
                    throw APIError.notFound("leaderboard")
                }
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
            guard let page = try await cache.page(key, from: start, limit: limit, around: around) else { throw APIError.notFound("leaderboard") }
            let ids = page.entries.map(\.entry.playerID)
            let names = try await database.writer.read { db -> [Int64: String] in
                guard !ids.isEmpty else { return [:] }
                let rows = try Row.fetchAll(db, sql: "SELECT id, username FROM players WHERE id IN (\(ids.map { _ in "?" }.joined(separator: ",")))", arguments: StatementArguments(ids))
                return Dictionary(uniqueKeysWithValues: rows.map { ($0["id"], $0["username"]) })
            }
            return LeaderboardResponse(
                leaderboard: page.entries.map { LeaderboardEntryResponse(playerName: names[$0.entry.playerID] ?? "", score: $0.entry.score, rank: $0.rank, playerID: $0.entry.playerID) },
                board: name, scoreOperator: page.scoreOperator.rawValue, total: page.total, nextCursor: page.nextRank.map(String.init))
        }
    }
}
