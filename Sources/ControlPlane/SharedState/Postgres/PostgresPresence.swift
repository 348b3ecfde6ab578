import Foundation
import PostgresNIO

/// Who is online across every control port on one PostgreSQL database: each instance counts
/// its own chat sockets per player in `presence` (one row per player and instance), and a
/// player is online while any live instance (``ControlInstance``) counts a socket for them or
/// has them in a match. The rows of an instance that dies stop counting once its heartbeat is
/// older than ``ControlInstance/staleAfter``, and are deleted with it.
///
/// "In a match" is set by the instance that handed out the connect token and cleared, on every
/// instance's row, by whichever records the match's results or the player's leaving.
///
/// A failed statement is logged and dropped: presence is advisory (a friend shown offline for
/// a moment), never worth failing the request that changed it.
public actor PostgresPresence: PresenceTracking {
    let instance: ControlInstance
    private var database: PostgresDatabase { instance.database }
    private var logger: Logger { instance.database.logger }
    /// This instance's own counts: written again when its rows were deleted (``republish()``).
    private var connections: [Int64: Int] = [:]

    public init(instance: ControlInstance) { self.instance = instance }

    public func connected(_ player: Int64) async {
        connections[player, default: 0] += 1
        await run(
            """
            INSERT INTO presence (player_id, instance_id, connections) VALUES (\(player), \(instance.id), 1)
            ON CONFLICT (player_id, instance_id) DO UPDATE SET connections = presence.connections + 1
            """)
    }

    public func disconnected(_ player: Int64) async {
        let remaining = (connections[player] ?? 1) - 1
        connections[player] = remaining > 0 ? remaining : nil
        // A row left at zero is deleted by the next sweep (``deleteIdleRows()``).
        await run(
            """
            UPDATE presence SET connections = greatest(connections - 1, 0) WHERE player_id = \(player) AND instance_id = \(instance.id)
            """)
    }

    public func setInMatch(_ player: Int64, _ playing: Bool) async {
        if playing {
            await run(
                """
                INSERT INTO presence (player_id, instance_id, in_match) VALUES (\(player), \(instance.id), true)
                ON CONFLICT (player_id, instance_id) DO UPDATE SET in_match = true
                """)
        } else {
            await run("UPDATE presence SET in_match = false WHERE player_id = \(player) AND in_match")
        }
    }

    public func online(among players: [Int64]) async -> Set<Int64> {
        guard !players.isEmpty else { return [] }
        do {
            let rows = try await database.rows(
                """
                SELECT DISTINCT p.player_id FROM presence p JOIN control_instances i ON i.id = p.instance_id
                WHERE p.player_id = ANY(\(players)) AND (p.connections > 0 OR p.in_match)
                    AND i.heartbeat_at >= clock_timestamp() - make_interval(secs => \(instance.staleAfter))
                """)
            return Set(try rows.map { try $0.decode(Int64.self) })
        } catch {
            logger.error("presence: could not read who is online: \(PostgresDatabase.reason(error))")
            return []
        }
    }

    /// Writes this instance's socket counts again, after its rows were deleted (its heartbeat
    /// had lapsed: ``ControlInstance/heartbeat()`` returned true).
    func republish() async {
        guard !connections.isEmpty else { return }
        let players = Array(connections.keys)
        let counts = players.map { connections[$0] ?? 0 }
        await run(
            """
            INSERT INTO presence (player_id, instance_id, connections)
            SELECT player, \(instance.id), count FROM unnest(\(players)::bigint[], \(counts)::integer[]) AS t(player, count)
            ON CONFLICT (player_id, instance_id) DO UPDATE SET connections = excluded.connections
            """)
    }

    /// Deletes this instance's rows that no longer say anything (no socket, not in a match).
    func deleteIdleRows() async {
        await run("DELETE FROM presence WHERE instance_id = \(instance.id) AND connections = 0 AND NOT in_match")
    }

    private func run(_ query: PostgresQuery) async {
        do {
            _ = try await database.rows(query)
        } catch {
            logger.error("presence: a write failed: \(PostgresDatabase.reason(error))")
        }
    }
}
