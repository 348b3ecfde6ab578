import Foundation
import MatchContract
import NetProtocol
import PostgresNIO

/// Which game server runs which match, in the database, for every control port on it:
///
/// - `game_servers`: each game server (today, each instance's in-process one), its UDP
///   addresses, where clients reach its `GET /v1/play` (`play_url`, when configured), the
///   instance hosting it, and a heartbeat. A server counts as alive while its
///   heartbeat is younger than ``ControlInstance/staleAfter``.
/// - `hosted_matches`: the matches each server runs, with their last published scoreboard and,
///   while empty, when they end unless someone connects (`empty_until`). The owning instance
///   inserts a row as it creates the match and keeps it current (``MatchDirectoryPublisher``).
/// - `match_reservations`: reservations made through another instance, which the owning
///   instance applies to its game server at its next poll.
public struct PostgresMatchDirectory: Sendable {
    let instance: ControlInstance
    /// This instance's game server.
    public let serverID: UUID
    /// Seconds between the owning instance's polls: a remote reservation reaches the game
    /// server within about that (plus a statement's time).
    public let pollInterval: Double
    /// A remote match that would end unjoined sooner than this is not reserved (the join starts
    /// another instead): the reservation could arrive after it ended. Several poll intervals.
    public let lapseMargin: Double
    private var database: PostgresDatabase { instance.database }
    private var logger: Logger { instance.database.logger }

    public init(instance: ControlInstance, serverID: UUID = UUID(), pollInterval: Double = 0.5, lapseMargin: Double = 3) {
        precondition(lapseMargin > 2 * pollInterval, "the margin covers a poll with room to spare")
        self.instance = instance
        self.serverID = serverID
        self.pollInterval = pollInterval
        self.lapseMargin = lapseMargin
    }

    /// Registers this instance's game server, or marks it alive. Returns true when it had to
    /// register (at start, or after it was deemed dead): its matches must be listed again.
    @discardableResult
    func heartbeat(addresses: [NetAddress], playEndpoint: PlayEndpoint? = nil) async throws -> Bool {
        let playURL = playEndpoint?.description
        let rows = try await database.rows(
            """
            INSERT INTO game_servers (id, instance_id, addresses, play_url)
            VALUES (\(serverID), \(instance.id), \(addresses.map(\.description)), \(playURL))
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = clock_timestamp()
            RETURNING (xmax = 0)
            """)
        return try rows.first?.decode(Bool.self) ?? true
    }

    /// Lists a match this instance's server has just created, before any join can look for it.
    func list(_ placement: MatchPlacement) async throws {
        _ = try await database.rows(
            """
            INSERT INTO hosted_matches (match_id, server_id, server_address, scoreboard)
            VALUES (\(Int64(bitPattern: placement.matchID)), \(serverID), \(placement.serverAddress.description), '[]')
            ON CONFLICT (match_id) DO NOTHING
            """)
    }

    /// Reserves `matchID` on the live game server of another instance that lists it, for
    /// `seconds` from now (the owner applies it at its next poll). False if no live server
    /// other than this one lists it, or it would end unjoined within ``lapseMargin``.
    func reserveRemote(matchID: UInt64, forSeconds seconds: Double) async throws -> Bool {
        let rows = try await database.rows(
            """
            WITH target AS (
                SELECT h.match_id, h.server_id FROM hosted_matches h JOIN game_servers s ON s.id = h.server_id
                WHERE h.match_id = \(Int64(bitPattern: matchID)) AND h.server_id <> \(serverID)
                    AND s.heartbeat_at >= clock_timestamp() - make_interval(secs => \(instance.staleAfter))
                    AND (h.empty_until IS NULL OR h.empty_until > clock_timestamp() + make_interval(secs => \(lapseMargin))))
            INSERT INTO match_reservations (match_id, server_id, until)
            SELECT match_id, server_id, clock_timestamp() + make_interval(secs => \(seconds)) FROM target
            ON CONFLICT (match_id) DO UPDATE SET until = greatest(match_reservations.until, excluded.until), server_id = excluded.server_id
            RETURNING 1
            """)
        return !rows.isEmpty
    }

    /// Where clients reach `GET /v1/play` of the live game server of another instance that
    /// lists `matchID` (nil: none lists it, or it named no endpoint).
    func remotePlayEndpoint(matchID: UInt64) async throws -> PlayEndpoint? {
        let rows = try await database.rows(
            """
            SELECT s.play_url FROM hosted_matches h JOIN game_servers s ON s.id = h.server_id
            WHERE h.match_id = \(Int64(bitPattern: matchID)) AND h.server_id <> \(serverID)
                AND s.heartbeat_at >= clock_timestamp() - make_interval(secs => \(instance.staleAfter))
            """)
        guard let text = try rows.first?.decode(String?.self) else { return nil }
        return try? PlayEndpoint(parsing: text)
    }

    /// The scoreboard another instance's live game server last published for `matchID`.
    func remoteScoreboard(matchID: UInt64) async throws -> [ScoreLine]? {
        let rows = try await database.rows(
            """
            SELECT h.scoreboard FROM hosted_matches h JOIN game_servers s ON s.id = h.server_id
            WHERE h.match_id = \(Int64(bitPattern: matchID)) AND h.server_id <> \(serverID)
                AND s.heartbeat_at >= clock_timestamp() - make_interval(secs => \(instance.staleAfter))
            """)
        guard let text = try rows.first?.decode(String.self) else { return nil }
        return try JSONDecoder().decode([ScoreLine].self, from: Data(text.utf8))
    }

    /// Takes the reservations other instances made for this server's matches: each match and
    /// the seconds its reservation still runs.
    func takeReservations() async throws -> [(matchID: UInt64, seconds: Double)] {
        try await database.rows(
            """
            DELETE FROM match_reservations WHERE server_id = \(serverID)
            RETURNING match_id, extract(epoch FROM until - clock_timestamp())::double precision
            """
        ).map { row in
            let (matchID, seconds) = try row.decode((Int64, Double).self)
            return (UInt64(bitPattern: matchID), seconds)
        }
    }

    /// Writes the listed matches' rows (scoreboard and empty deadline, `now` being the host's
    /// clock) and deletes the rows of `ended`.
    func publish(_ matches: [HostedMatch], now: Double, ended: [UInt64]) async throws {
        if !matches.isEmpty {
            let encoder = JSONEncoder()
            let ids = matches.map { Int64(bitPattern: $0.matchID) }
            let addresses = matches.map(\.serverAddress.description)
            let scoreboards = try matches.map { String(decoding: try encoder.encode($0.scoreboard), as: UTF8.self) }
            // -1: someone is connected, so no deadline (the arrays carry no nulls).
            let emptyIn = matches.map { match in match.emptyUntil.map { max(0, $0 - now) } ?? -1 }
            _ = try await database.rows(
                """
                INSERT INTO hosted_matches (match_id, server_id, server_address, scoreboard, empty_until, updated_at)
                SELECT id, \(serverID), address, scoreboard,
                    CASE WHEN empty_in < 0 THEN NULL ELSE clock_timestamp() + make_interval(secs => empty_in) END, clock_timestamp()
                FROM unnest(\(ids)::bigint[], \(addresses)::text[], \(scoreboards)::text[], \(emptyIn)::double precision[])
                    AS t(id, address, scoreboard, empty_in)
                ON CONFLICT (match_id) DO UPDATE SET
                    server_id = excluded.server_id, server_address = excluded.server_address, scoreboard = excluded.scoreboard,
                    empty_until = excluded.empty_until, updated_at = excluded.updated_at
                """)
        }
        if !ended.isEmpty {
            _ = try await database.rows(
                "DELETE FROM hosted_matches WHERE server_id = \(serverID) AND match_id = ANY(\(ended.map { Int64(bitPattern: $0) }))")
        }
    }

    /// Deletes the game servers whose heartbeat is older than ``ControlInstance/staleAfter``,
    /// and with them their matches and reservations.
    @discardableResult
    func deleteStaleServers() async throws -> Int {
        let rows = try await database.rows(
            """
            WITH deleted AS (
                DELETE FROM game_servers WHERE heartbeat_at < clock_timestamp() - make_interval(secs => \(instance.staleAfter)) RETURNING 1)
            SELECT count(*) FROM deleted
            """)
        return try rows.first?.decode(Int.self) ?? 0
    }
}
