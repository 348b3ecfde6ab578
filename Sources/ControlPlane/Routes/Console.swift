import Foundation
import Hummingbird
import MatchContract

/// A running match as the console shows it: its game, where it runs, and its live scoreboard.
struct ConsoleMatch: Codable, Sendable {
    var gameID: Int64
    var gameName: String
    var visibility: String
    var matchID: UInt64
    var gameSessionID: Int64
    var serverAddress: String
    var startedAt: Date
    var timeLimitSeconds: Int?
    /// False when the host no longer knows the match (it ended a moment ago, or its server was
    /// lost); `players` is then empty.
    var live: Bool
    var players: [ScoreLine]
}

/// Everything the operator's console shows at one moment (`GET /v1/console/overview`). Figures
/// over time are successive readings: every counter in `server` only grows.
struct ConsoleOverview: ResponseEncodable {
    var generatedAt: Date
    var instanceID: String?
    var matches: [ConsoleMatch]
    /// Players in `matches`, counted once each.
    var playersInMatches: Int
    /// This process's game server (tick durations and phases, traffic, drops, RTT, loss);
    /// nil when none runs in it.
    var server: ServerStatsReport?
    /// The global board's top entries.
    var leaderboard: [LeaderboardEntryResponse]
    /// The lobby's newest messages, newest first.
    var recentChat: [ChatMessage]
}

extension ControlPlaneRoutes {
    /// Most running matches the overview lists, and the sizes of its other lists.
    static let consoleMatchLimit = 100
    static let consoleLeaderboardLimit = 10
    static let consoleChatLimit = 20

    /// Operator-only routes: 401 without a session, 403 `forbidden` for a player who is not one.
    func addConsoleRoutes(_ group: RouterGroup<ArbiterRequestContext>) {
        let matches = services.stores.matches
        let games = services.stores.games
        let accounts = services.stores.accounts
        let chatStore = services.stores.chat
        let hosting = services.hosting
        let ranking = services.leaderboards
        let observability = services.observability
        let retention = ChatRetention(limits: services.limits)

        group.get("/v1/console/overview") { _, context -> ConsoleOverview in
            let me = try context.requireOperator().playerID
            var listed: [ConsoleMatch] = []
            var players = Set<UInt64>()
            for session in try await matches.runningSessions(limit: Self.consoleMatchLimit) {
                let game = try await games.game(session.gameID, for: me)?.listing.game
                let scores = await hosting.scoreboard(matchID: session.matchID)
                for line in scores ?? [] { players.insert(line.playerID) }
                listed.append(ConsoleMatch(
                    gameID: session.gameID, gameName: game?.name ?? "", visibility: game?.visibility ?? "private", matchID: session.matchID,
                    gameSessionID: session.id, serverAddress: session.serverAddress, startedAt: session.startTime,
                    timeLimitSeconds: session.timeLimitSeconds, live: scores != nil, players: scores ?? []))
            }
            var leaderboard: [LeaderboardEntryResponse] = []
            if let page = try await ranking.page(BoardKey.global, from: 0, limit: Self.consoleLeaderboardLimit, around: nil) {
                let names = try await accounts.usernames(of: page.entries.map(\.entry.playerID))
                leaderboard = page.entries.map {
                    LeaderboardEntryResponse(playerName: names[$0.entry.playerID] ?? "", score: $0.entry.score, rank: $0.rank, playerID: $0.entry.playerID)
                }
            }
            let chat = try await chatStore.history(
                of: "lobby", before: Int64.max, notBefore: retention.cutoff(now: Date()), limit: Self.consoleChatLimit
            ).map { ChatMessage(id: $0.id, channel: "lobby", senderID: $0.senderID, senderName: $0.senderName, body: $0.body, sentAt: $0.sentAt) }
            return ConsoleOverview(
                generatedAt: Date(), instanceID: observability.instanceID, matches: listed, playersInMatches: players.count,
                server: observability.serverStats(), leaderboard: leaderboard, recentChat: chat)
        }
    }
}
