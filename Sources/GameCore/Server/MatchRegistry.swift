import Foundation
import MatchContract
import NetProtocol

/// What a ``MatchServer`` asks of the matches it hosts: admission, departures, live scores and
/// ends. The game server's implementation (`MatchDirectory`) is shared with the control port
/// under a lock; ``LocalMatchRegistry`` is the single-threaded one for virtual-time runs.
public protocol MatchRegistry: AnyObject {
    func admit(_ ticket: MatchTicket?, now: Double) -> MatchAdmission
    func settings(of matchID: UInt64) -> MatchSettings?
    func playerLeft(matchID: UInt64, playerID: UInt64, now: Double)
    /// A client admitted with a spectator ticket went.
    func spectatorLeft(matchID: UInt64)
    func updateScores(matchID: UInt64, lines: [ScoreLine])
    /// The rules declared `matchID` over. Returns every match that ended now (this one and any
    /// other that was due); their reports are published.
    func end(matchID: UInt64, now: Double, wallClock: Date) -> [UInt64]
    /// Ends the matches that are due (time limit, idle); returns their ids.
    func endDueMatches(now: Double, wallClock: Date) -> [UInt64]
    /// The server is stopping: every match ends as abandoned.
    func abandonAll(now: Double, wallClock: Date)
}

/// A ``MatchBook`` owned by one thread, collecting reports in ``reports``.
public final class LocalMatchRegistry: MatchRegistry {
    public private(set) var book: MatchBook
    public private(set) var reports: [MatchReport] = []

    public init(book: MatchBook = MatchBook()) {
        self.book = book
    }

    public func create(settings: MatchSettings, now: Double, random: inout some SecureRandomSource) -> UInt64 {
        book.create(settings: settings, now: now, random: &random)
    }

    public func reserve(matchID: UInt64, until: Double) -> Bool { book.reserve(matchID: matchID, until: until) }
    public func scoreboard(matchID: UInt64, now: Double) -> [ScoreLine]? { book.scoreboard(matchID: matchID, now: now) }

    public func admit(_ ticket: MatchTicket?, now: Double) -> MatchAdmission { book.admit(ticket, now: now) }
    public func settings(of matchID: UInt64) -> MatchSettings? { book.settings(of: matchID) }
    public func playerLeft(matchID: UInt64, playerID: UInt64, now: Double) { book.playerLeft(matchID: matchID, playerID: playerID, now: now) }
    public func spectatorLeft(matchID: UInt64) { book.spectatorLeft(matchID: matchID) }
    public func updateScores(matchID: UInt64, lines: [ScoreLine]) { book.updateScores(matchID: matchID, lines: lines) }

    public func end(matchID: UInt64, now: Double, wallClock: Date) -> [UInt64] {
        book.markOver(matchID)
        return endDueMatches(now: now, wallClock: wallClock)
    }

    public func endDueMatches(now: Double, wallClock: Date) -> [UInt64] {
        let ended = book.endDueMatches(now: now, wallClock: wallClock)
        reports += ended
        return ended.map(\.matchID)
    }

    public func abandonAll(now: Double, wallClock: Date) { reports += book.abandonAll(now: now, wallClock: wallClock) }
}
