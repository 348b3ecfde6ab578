import Foundation
import GameCore
import MatchContract
import NetProtocol
import Synchronization

/// The matches this game server hosts (a ``MatchBook``), shared between the UDP thread (its
/// ``MatchServer`` admits, departs, scores and ends) and the control port (creates and reserves
/// matches, reads scoreboards). Thread-safe. Finished matches' reports go to ``reports``.
public final class MatchDirectory: MatchRegistry, Sendable {
    private let book: Mutex<MatchBook>
    public let reports: AsyncStream<MatchReport>
    private let reportSink: AsyncStream<MatchReport>.Continuation

    /// - Parameters:
    ///   - idleSeconds: how long an empty match waits for (more) players before it ends.
    ///   - order: the hosted game's final standings (``GameRules/standingsOrder``).
    public init(idleSeconds: Double = 60, order: StandingsOrder = .byScore) {
        book = Mutex(MatchBook(idleSeconds: idleSeconds, order: order))
        (reports, reportSink) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    public var idleSeconds: Double { book.withLock { $0.idleSeconds } }

    /// The seats of the matches running here (``MatchBook/plannedSeats``).
    public var plannedSeats: Int { book.withLock { $0.plannedSeats } }

    /// Registers a new match and returns its id (never 0, which names the default arena).
    public func create(settings: MatchSettings, now: Double) -> UInt64 {
        var random = SystemRandomSource()
        return book.withLock { $0.create(settings: settings, now: now, random: &random) }
    }

    /// Keeps `matchID` open for a player who holds a connect token valid until `until` (seconds
    /// on the directory's clock). False if the match is not running here: the caller must not
    /// hand out a token for it.
    public func reserve(matchID: UInt64, until: Double) -> Bool { book.withLock { $0.reserve(matchID: matchID, until: until) } }

    /// Whether `matchID` runs here.
    public func contains(_ matchID: UInt64) -> Bool { book.withLock { $0.contains(matchID) } }

    public func scoreboard(matchID: UInt64, now: Double) -> [ScoreLine]? { book.withLock { $0.scoreboard(matchID: matchID, now: now) } }

    /// Every match running here, with its scoreboard (``MatchBook/listings(now:)``).
    public func listings(now: Double) -> [MatchBook.Listing] { book.withLock { $0.listings(now: now) } }

    // MARK: MatchRegistry

    public func admit(_ ticket: MatchTicket?, now: Double) -> MatchAdmission { book.withLock { $0.admit(ticket, now: now) } }
    public func settings(of matchID: UInt64) -> MatchSettings? { book.withLock { $0.settings(of: matchID) } }

    public func playerLeft(matchID: UInt64, playerID: UInt64, now: Double) {
        book.withLock { $0.playerLeft(matchID: matchID, playerID: playerID, now: now) }
    }

    public func spectatorLeft(matchID: UInt64) {
        book.withLock { $0.spectatorLeft(matchID: matchID) }
    }

    public func updateScores(matchID: UInt64, lines: [ScoreLine]) { book.withLock { $0.updateScores(matchID: matchID, lines: lines) } }

    public func end(matchID: UInt64, now: Double, wallClock: Date) -> [UInt64] {
        let ended = book.withLock { book in
            book.markOver(matchID)
            return book.endDueMatches(now: now, wallClock: wallClock)
        }
        return publish(ended)
    }

    public func endDueMatches(now: Double, wallClock: Date) -> [UInt64] {
        publish(book.withLock { $0.endDueMatches(now: now, wallClock: wallClock) })
    }

    /// Ends every match as abandoned, publishes their reports and stops publishing.
    public func abandonAll(now: Double, wallClock: Date) {
        _ = publish(book.withLock { $0.abandonAll(now: now, wallClock: wallClock) })
        reportSink.finish()
    }

    private func publish(_ ended: [MatchReport]) -> [UInt64] {
        for report in ended { reportSink.yield(report) }
        return ended.map(\.matchID)
    }

    /// Stops publishing (shutdown).
    public func finish() { reportSink.finish() }
}
