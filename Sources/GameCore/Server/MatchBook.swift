import Foundation
import MatchContract
import NetProtocol

/// The bookkeeping of the matches one game server hosts, as plain values: which matches exist
/// and with what settings, who is connected to each and since when, every player's last score
/// line, and when each match is due to end. Pure: the caller passes time and randomness.
///
/// A match ends when its rules declare it over, at its time limit, or once it has stayed empty
/// for ``idleSeconds`` (but never while a connect token for it may still be used). Its report
/// lists every player who was ever connected, in final standings.
public struct MatchBook: Sendable {
    struct Player: Sendable {
        var line: ScoreLine
        var secondsPlayed: Double = 0
        var connectedSince: Double?
    }

    struct Match: Sendable {
        var settings: MatchSettings
        var createdAt: Double
        var players: [UInt64: Player] = [:]
        var connected = 0
        /// Connected spectators: no seat, no score line, not in the report.
        var spectators = 0
        var lastDeparture: Double?
        /// Connect tokens for the match are valid until then: it waits for their holders.
        var reservedUntil: Double = 0
        /// The game declared the match over before its time ran out.
        var over = false

        func secondsPlayed(_ player: Player, now: Double) -> Double {
            player.secondsPlayed + (player.connectedSince.map { max(0, now - $0) } ?? 0)
        }
    }

    /// Seconds an empty match waits for (more) players before it ends.
    public let idleSeconds: Double
    public let order: StandingsOrder
    /// Spectators one match admits at once (each costs a connection and a whole-world snapshot a tick).
    public let maxSpectatorsPerMatch: Int
    private var matches: [UInt64: Match] = [:]

    public init(idleSeconds: Double = 60, order: StandingsOrder = .byScore, maxSpectatorsPerMatch: Int = 32) {
        self.idleSeconds = idleSeconds
        self.order = order
        self.maxSpectatorsPerMatch = maxSpectatorsPerMatch
    }

    public var count: Int { matches.count }

    /// The seats of every match still running (each match's ``MatchSettings/maxPlayers``): the
    /// load a new match is placed by, known before its players connect.
    public var plannedSeats: Int { matches.values.reduce(0) { $0 + ($1.over ? 0 : $1.settings.maxPlayers) } }

    /// Registers a new match and returns its id: random, 63 bits, never 0 (the default arena).
    public mutating func create(settings: MatchSettings, now: Double, random: inout some SecureRandomSource) -> UInt64 {
        var id: UInt64 = 0
        while id == 0 || matches[id] != nil {
            withUnsafeMutableBytes(of: &id) { random.fill($0) }
            id &= 0x7FFF_FFFF_FFFF_FFFF
        }
        matches[id] = Match(settings: settings, createdAt: now)
        return id
    }

    /// Keeps `matchID` open until `until` for a player who holds a connect token valid that long.
    /// False if the match is not hosted here: no token may be handed out for it.
    public mutating func reserve(matchID: UInt64, until: Double) -> Bool {
        guard var match = matches[matchID] else { return false }
        match.reservedUntil = max(match.reservedUntil, until)
        matches[matchID] = match
        return true
    }

    public func contains(_ matchID: UInt64) -> Bool { matches[matchID] != nil }

    public func settings(of matchID: UInt64) -> MatchSettings? { matches[matchID]?.settings }

    /// A player connected with `ticket` (nil: a token without one, for the default arena).
    public mutating func admit(_ ticket: MatchTicket?, now: Double) -> MatchAdmission {
        guard let ticket, ticket.matchID != 0 else { return .defaultArena }
        guard var match = matches[ticket.matchID] else { return .unknownMatch }
        if ticket.role == .spectator {
            guard !match.over, match.spectators < maxSpectatorsPerMatch else { return .full }
            match.spectators += 1
            matches[ticket.matchID] = match
            return .admitted(matchID: ticket.matchID)
        }
        if match.players[ticket.playerID]?.connectedSince != nil { return .admitted(matchID: ticket.matchID) }
        guard match.connected < match.settings.maxPlayers else { return .full }
        var player = match.players[ticket.playerID] ?? Player(line: ScoreLine(playerID: ticket.playerID, displayName: ticket.displayName, score: 0))
        player.connectedSince = now
        match.players[ticket.playerID] = player
        match.connected += 1
        matches[ticket.matchID] = match
        return .admitted(matchID: ticket.matchID)
    }

    /// A spectator admitted with a ``MatchTicket/Role/spectator`` ticket went.
    public mutating func spectatorLeft(matchID: UInt64) {
        guard var match = matches[matchID], match.spectators > 0 else { return }
        match.spectators -= 1
        matches[matchID] = match
    }

    public mutating func playerLeft(matchID: UInt64, playerID: UInt64, now: Double) {
        guard var match = matches[matchID], var player = match.players[playerID], let since = player.connectedSince else { return }
        player.secondsPlayed += max(0, now - since)
        player.connectedSince = nil
        match.players[playerID] = player
        match.connected -= 1
        if match.connected == 0 { match.lastDeparture = now }
        matches[matchID] = match
    }

    /// The rules' current scoreboard. Players who left keep their last line.
    public mutating func updateScores(matchID: UInt64, lines: [ScoreLine]) {
        guard var match = matches[matchID] else { return }
        for line in lines where match.players[line.playerID] != nil {
            match.players[line.playerID]?.line = line
        }
        matches[matchID] = match
    }

    /// Every player ever connected, in standings order.
    public func scoreboard(matchID: UInt64, now: Double) -> [ScoreLine]? {
        guard let match = matches[matchID] else { return nil }
        return standings(of: match, now: now).map(\.line)
    }

    /// A running match as the match directory in the database lists it (for control ports
    /// other than this game server's).
    public struct Listing: Sendable, Equatable {
        public var matchID: UInt64
        public var scoreboard: [ScoreLine]
        /// While nobody is connected: when the match ends unless someone connects (its idle time
        /// and its reservations both run out then; on the caller's clock). Nil while anyone is.
        public var emptyUntil: Double?
    }

    /// Every match still running, in id order.
    public func listings(now: Double) -> [Listing] {
        matches.sorted { $0.key < $1.key }.map { id, match in
            let emptyUntil = match.connected == 0 ? max((match.lastDeparture ?? match.createdAt) + idleSeconds, match.reservedUntil) : nil
            return Listing(matchID: id, scoreboard: standings(of: match, now: now).map(\.line), emptyUntil: emptyUntil)
        }
    }

    /// The rules declared the match over: it ends at the next ``endDueMatches(now:wallClock:)``.
    public mutating func markOver(_ matchID: UInt64) { matches[matchID]?.over = true }

    /// Ends every match that is due and returns their reports (time played to the millisecond).
    public mutating func endDueMatches(now: Double, wallClock: Date) -> [MatchReport] {
        let due = matches.filter { _, match in
            if match.over || now - match.createdAt >= Double(match.settings.timeLimitSeconds) { return true }
            if match.connected == 0 {
                let quietSince = match.lastDeparture ?? match.createdAt
                return now - quietSince >= idleSeconds && now >= match.reservedUntil
            }
            return false
        }
        for id in due.keys { matches.removeValue(forKey: id) }
        return due.sorted { $0.key < $1.key }.map { report($0.key, $0.value, now: now, wallClock: wallClock, abandoned: false) }
    }

    /// Ends every match as abandoned (the server is stopping), with the time played so far.
    public mutating func abandonAll(now: Double, wallClock: Date) -> [MatchReport] {
        defer { matches.removeAll() }
        return matches.sorted { $0.key < $1.key }.map { report($0.key, $0.value, now: now, wallClock: wallClock, abandoned: true) }
    }

    private func standings(of match: Match, now: Double) -> [(line: ScoreLine, seconds: Double)] {
        match.players.values.map { ($0.line, match.secondsPlayed($0, now: now)) }.sorted { a, b in
            if order.placesAhead(a.line, b.line) { return true }
            if order.placesAhead(b.line, a.line) { return false }
            // A tie: the longer-serving player first, then the lower id (deterministic).
            return a.seconds != b.seconds ? a.seconds > b.seconds : a.line.playerID < b.line.playerID
        }
    }

    private func report(_ id: UInt64, _ match: Match, now: Double, wallClock: Date, abandoned: Bool) -> MatchReport {
        let lines = standings(of: match, now: now).enumerated().map { index, entry in
            MatchReport.Line(
                playerID: entry.line.playerID, score: entry.line.score, kills: entry.line.kills, deaths: entry.line.deaths,
                placement: index + 1, secondsPlayed: (entry.seconds * 1000).rounded() / 1000)
        }
        // A match no one ever connected to was not played: its session closes as abandoned.
        return MatchReport(matchID: id, endedAt: wallClock, lines: lines, abandoned: abandoned || lines.isEmpty)
    }
}

/// How final standings are ordered: a game's rules say which of two lines places ahead; ties
/// fall to time played, then player id.
public struct StandingsOrder: Sendable {
    public let placesAhead: @Sendable (ScoreLine, ScoreLine) -> Bool

    public init(placesAhead: @escaping @Sendable (ScoreLine, ScoreLine) -> Bool) {
        self.placesAhead = placesAhead
    }

    /// Highest score first.
    public static let byScore = StandingsOrder { $0.score > $1.score }
}

/// Whether a connecting player may join, and where.
public enum MatchAdmission: Equatable, Sendable {
    case admitted(matchID: UInt64)
    /// No ticket (a token minted by hand): the open default arena.
    case defaultArena
    case unknownMatch
    case full
}
