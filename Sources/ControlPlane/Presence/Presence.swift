/// Who is online, in this process's memory.
public actor Presence: PresenceTracking {
    private var connections: [Int64: Int] = [:]
    private var inMatch: Set<Int64> = []

    public init() {}

    public func connected(_ player: Int64) { connections[player, default: 0] += 1 }

    public func disconnected(_ player: Int64) {
        let remaining = (connections[player] ?? 1) - 1
        connections[player] = remaining > 0 ? remaining : nil
    }

    public func setInMatch(_ player: Int64, _ playing: Bool) {
        if playing { inMatch.insert(player) } else { inMatch.remove(player) }
    }

    public func online(among players: [Int64]) -> Set<Int64> {
        Set(players.filter { connections[$0] != nil || inMatch.contains($0) })
    }
}
