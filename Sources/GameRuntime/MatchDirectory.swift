import Foundation
import GameCore
import NetProtocol
import Synchronization

/// The matches this game server runs, shared between the UDP thread (players arrive and leave)
/// and the control port (creates matches, reads scoreboards). Thread-safe.
///
/// A player's connect token carries a ``MatchTicket`` naming the match; a ticket for a match
/// this server does not run is turned away. A match ends at its time limit, or once every
/// player has left, and its report goes to ``reports``.
public final class MatchDirectory: Sendable {
    /// A match's settings are the game's own (tick rate, limits, map).
    public typealias Settings = MatchSettings

    public struct PlayerLine: Sendable, Equatable {
        public var playerID: UInt64
        public var displayName: String
        public var score: Int
        public var kills: Int
        public var deaths: Int
        public var secondsPlayed: Double
        public var connected: Bool
    }

    /// What a finished match reports. Placement 1 is the winner. An abandoned match (no one
    /// ever connected, or the server shut down under it) counts for no one's statistics.
    public struct Report: Sendable, Equatable, Codable {
        public struct Line: Sendable, Equatable, Codable {
            public var playerID: UInt64
            public var score: Int
            public var kills: Int
            public var deaths: Int
            public var placement: Int
            public var secondsPlayed: Double

            public init(playerID: UInt64, score: Int, kills: Int, deaths: Int, placement: Int, secondsPlayed: Double) {
                self.playerID = playerID
                self.score = score
                self.kills = kills
                self.deaths = deaths
                self.placement = placement
                self.secondsPlayed = secondsPlayed
            }
        }

        public var matchID: UInt64
        public var endedAt: Date
        public var lines: [Line]
        public var abandoned: Bool

        public init(matchID: UInt64, endedAt: Date, lines: [Line], abandoned: Bool) {
            self.matchID = matchID
            self.endedAt = endedAt
            self.lines = lines
            self.abandoned = abandoned
        }
    }

    struct Match {
        var settings: Settings
        var createdAt: Double
        var players: [UInt64: PlayerLine] = [:]
        var connectedSince: [UInt64: Double] = [:]
        var lastDeparture: Double?
        /// Connect tokens for the match are valid until then: it waits for their holders.
        var reservedUntil: Double = 0
        /// The game declared the match over (score limit) before its time ran out.
        var over = false
    }

    public enum Admission: Equatable, Sendable {
        case admitted(matchID: UInt64)
        case defaultArena
        case unknownMatch
        case full
    }

    private let state = Mutex<[UInt64: Match]>([:])
    /// Seconds an empty match waits for (more) players before it ends.
    public let idleSeconds: Double
    public let reports: AsyncStream<Report>
    private let reportSink: AsyncStream<Report>.Continuation

    public init(idleSeconds: Double = 60) {
        self.idleSeconds = idleSeconds
        (reports, reportSink) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Registers a new match and returns its id (never 0, which names the default arena).
    public func create(settings: Settings, now: Double) -> UInt64 {
        var random = SystemRandomSource()
        return state.withLock { matches in
            var id: UInt64 = 0
            while id == 0 || matches[id] != nil {
                withUnsafeMutableBytes(of: &id) { random.fill($0) }
                id &= 0x7FFF_FFFF_FFFF_FFFF
            }
            matches[id] = Match(settings: settings, createdAt: now)
            return id
        }
    }

    /// Keeps `matchID` open for a player who holds a connect token valid until `until` (seconds
    /// on the directory's clock), so that the token is never turned away for a match that lapsed
    /// while its holder was connecting. False if the match is not running here: the caller must
    /// not hand out a token for it.
    public func reserve(matchID: UInt64, until: Double) -> Bool {
        state.withLock { matches in
            guard var match = matches[matchID] else { return false }
            match.reservedUntil = max(match.reservedUntil, until)
            matches[matchID] = match
            return true
        }
    }

    /// Whether `matchID` runs here.
    public func contains(_ matchID: UInt64) -> Bool { state.withLock { $0[matchID] != nil } }

    /// A player connected with `ticket` (nil: a token without one).
    public func playerConnected(_ ticket: MatchTicket?, now: Double) -> Admission {
        guard let ticket, ticket.matchID != 0 else { return .defaultArena }
        return state.withLock { matches in
            guard var match = matches[ticket.matchID] else { return .unknownMatch }
            let connected = match.connectedSince.count
            guard connected < match.settings.maxPlayers else { return .full }
            var line = match.players[ticket.playerID] ?? PlayerLine(
                playerID: ticket.playerID, displayName: ticket.displayName, score: 0, kills: 0, deaths: 0, secondsPlayed: 0, connected: true)
            line.connected = true
            match.players[ticket.playerID] = line
            match.connectedSince[ticket.playerID] = now
            matches[ticket.matchID] = match
            return .admitted(matchID: ticket.matchID)
        }
    }

    public func playerDisconnected(matchID: UInt64, playerID: UInt64, now: Double) {
        state.withLock { matches in
            guard var match = matches[matchID], let since = match.connectedSince.removeValue(forKey: playerID) else { return }
            match.players[playerID]?.secondsPlayed += max(0, now - since)
            match.players[playerID]?.connected = false
            if match.connectedSince.isEmpty { match.lastDeparture = now }
            matches[matchID] = match
        }
    }

    /// Adds to a player's tally (the game rules call this as things happen).
    public func record(matchID: UInt64, playerID: UInt64, score: Int = 0, kills: Int = 0, deaths: Int = 0) {
        state.withLock { matches in
            matches[matchID]?.players[playerID]?.score += score
            matches[matchID]?.players[playerID]?.kills += kills
            matches[matchID]?.players[playerID]?.deaths += deaths
        }
    }

    public func settings(of matchID: UInt64) -> Settings? {
        state.withLock { $0[matchID]?.settings }
    }

    /// Ends a match now (the game decided it is over) and publishes its report. Returns every
    /// match the sweep ended, this one and any other that was due.
    public func end(matchID: UInt64, now: Double, wallClock: Date) -> [UInt64] {
        state.withLock { matches in matches[matchID]?.over = true }
        return endDueMatches(now: now, wallClock: wallClock)
    }

    public func scoreboard(matchID: UInt64, now: Double) -> [PlayerLine]? {
        state.withLock { matches in
            guard let match = matches[matchID] else { return nil }
            return match.players.values.map { line in
                var line = line
                if let since = match.connectedSince[line.playerID] { line.secondsPlayed += now - since }
                return line
            }.sorted { $0.score != $1.score ? $0.score > $1.score : $0.playerID < $1.playerID }
        }
    }

    /// Ends matches whose time is up or that stayed empty for `idleSeconds`; returns the ended
    /// ids (their players should be disconnected) and publishes each report.
    public func endDueMatches(now: Double, wallClock: Date) -> [UInt64] {
        let ended: [(UInt64, Match)] = state.withLock { matches in
            let due = matches.filter { _, match in
                if match.over || now - match.createdAt >= Double(match.settings.timeLimitSeconds) { return true }
                if match.connectedSince.isEmpty {
                    let quietSince = match.lastDeparture ?? match.createdAt
                    return now - quietSince >= idleSeconds && now >= match.reservedUntil
                }
                return false
            }
            for (id, _) in due { matches.removeValue(forKey: id) }
            return Array(due)
        }
        publish(ended, now: now, wallClock: wallClock, abandoned: false)
        return ended.map(\.0)
    }

    /// Ends every match as abandoned (the server is shutting down), with the time played so
    /// far, publishes their reports and stops publishing.
    public func abandonAll(now: Double, wallClock: Date) {
        let all: [(UInt64, Match)] = state.withLock { matches in
            defer { matches.removeAll() }
            return Array(matches)
        }
        publish(all, now: now, wallClock: wallClock, abandoned: true)
        reportSink.finish()
    }

    private func publish(_ ended: [(UInt64, Match)], now: Double, wallClock: Date, abandoned: Bool) {
        for (id, match) in ended {
            var lines = match.players.values.map { player -> PlayerLine in
                var player = player
                if let since = match.connectedSince[player.playerID] { player.secondsPlayed += now - since }
                return player
            }
            lines.sort { $0.score != $1.score ? $0.score > $1.score : ($0.secondsPlayed != $1.secondsPlayed ? $0.secondsPlayed > $1.secondsPlayed : $0.playerID < $1.playerID) }
            let report = Report(
                matchID: id, endedAt: wallClock,
                lines: lines.enumerated().map { index, line in
                    Report.Line(
                        playerID: line.playerID, score: line.score, kills: line.kills, deaths: line.deaths, placement: index + 1,
                        secondsPlayed: line.secondsPlayed)
                },
                // A match no one ever connected to was not played: the session closes as abandoned.
                abandoned: abandoned || lines.isEmpty)
            reportSink.yield(report)
        }
    }

    /// Stops publishing (shutdown).
    public func finish() { reportSink.finish() }
}
