/// Who is online: players with a chat connection or in a running match. ``Presence`` counts
/// this process's connections; several control ports would share one count instead.
public protocol PresenceTracking: Sendable {
    /// A chat socket of `player` opened (each counts; the player is online while any is open).
    func connected(_ player: Int64) async
    /// One of `player`'s chat sockets closed.
    func disconnected(_ player: Int64) async
    func setInMatch(_ player: Int64, _ playing: Bool) async
    /// Those of `players` who are online. Asked for a page's worth, never for everyone.
    func online(among players: [Int64]) async -> Set<Int64>
}
