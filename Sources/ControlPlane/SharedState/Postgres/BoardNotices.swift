import PostgresNIO

/// The leaderboard entries a result set, as notification bodies: `key pid score` per entry,
/// entries separated by `;`, split over as many notifications as needed to keep each under
/// PostgreSQL's payload limit (a 64-player match sets 128 entries). Board keys (`global`,
/// `game:{id}`) hold neither spaces nor semicolons.
enum BoardNotices {
    /// The bodies that carry `updates`, each under ``PostgresNotificationBus/maximumBodyBytes``.
    static func bodies(for updates: [LeaderboardUpdate], maximumBytes: Int = PostgresNotificationBus.maximumBodyBytes) -> [String] {
        var bodies: [String] = []
        var current = ""
        for update in updates {
            let entry = "\(update.boardKey) \(update.playerID) \(update.score)"
            if !current.isEmpty, current.utf8.count + 1 + entry.utf8.count > maximumBytes {
                bodies.append(current)
                current = ""
            }
            current += current.isEmpty ? entry : ";" + entry
        }
        if !current.isEmpty { bodies.append(current) }
        return bodies
    }

    /// The entries of one body; nil when it is not one ``bodies(for:maximumBytes:)`` made.
    static func updates(in body: Substring) -> [LeaderboardUpdate]? {
        var updates: [LeaderboardUpdate] = []
        for entry in body.split(separator: ";") {
            let fields = entry.split(separator: " ")
            guard fields.count == 3, let player = Int64(fields[1]), let score = Int64(fields[2]) else { return nil }
            updates.append(LeaderboardUpdate(boardKey: String(fields[0]), playerID: player, score: score))
        }
        return updates
    }

    /// Tells every control port the entries `updates` set, when the transaction on
    /// `connection` commits.
    static func send(_ updates: [LeaderboardUpdate], on connection: PostgresConnection, logger: Logger) async throws {
        for body in bodies(for: updates) { try await PostgresNotificationBus.notify(.boards, body, on: connection, logger: logger) }
    }
}
