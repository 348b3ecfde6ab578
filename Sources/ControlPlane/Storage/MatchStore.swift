import Foundation

enum SessionStatus: String, Sendable {
    case running
    case finished
    /// Outlived its time limit without reporting (its server was lost).
    case timedOut = "timed_out"
    /// Did not finish: its server crashed, stopped, or no one connected. Counts for no one.
    case abandoned
}

/// One match of a game, as the database knows it (a game session).
struct GameSession: Sendable, Equatable {
    var id: Int64
    var gameID: Int64
    var matchID: UInt64
    /// Where clients connect (a ``NetAddress`` description).
    var serverAddress: String
    var startTime: Date
    var endTime: Date?
    var status: SessionStatus
    /// The game's time limit when the match started, which it is measured by: editing the game
    /// does not end a running match early.
    var timeLimitSeconds: Int?
}

/// A running session to record.
struct NewGameSession: Sendable, Equatable {
    var gameID: Int64
    var matchID: UInt64
    var serverAddress: String
    var startTime: Date
    var timeLimitSeconds: Int
}

/// What starting a session did.
enum SessionStart: Sendable, Equatable {
    case started(GameSession)
    /// A session of the game runs already (a racing join started it): that one, unchanged.
    case alreadyRunning(GameSession)

    var session: GameSession {
        switch self {
        case .started(let session), .alreadyRunning(let session): session
        }
    }
}

/// Game sessions (matches) and who takes part in them.
///
/// At most one session of a game runs at a time. The store must hold that with a constraint (a
/// unique index over running sessions), not by reading first: two joins that both read "none
/// runs" would otherwise both start one under READ COMMITTED.
protocol MatchStore: Sendable {
    /// The game's running session, if one runs.
    func runningSession(ofGame game: Int64) async throws -> GameSession?
    /// Running sessions, newest first, at most `limit` (the console's live matches).
    func runningSessions(limit: Int) async throws -> [GameSession]
    /// Records `session` as running, unless one of its game runs already.
    func startSession(_ session: NewGameSession) async throws -> SessionStart
    /// Gives `player` a place in the running `session` (again, after leaving it) and makes them a
    /// member of its game, all or nothing; a player in it already keeps their place. Throws
    /// ``StoreError/capReached(held:)`` when `player` is in `maxConcurrentMatches` other running
    /// matches, ``StoreError/matchFull`` when `capacity` players are in it. The check and the
    /// place must be one atomic step (SQLite: the write transaction is exclusive; PostgreSQL:
    /// lock the session's row first).
    func takeSeat(player: Int64, in session: GameSession, capacity: Int, maxConcurrentMatches: Int, at now: Date) async throws
    /// Closes the running session of `matchID` as `status`, ending every place in it; false when
    /// no such session runs.
    func closeSession(matchID: UInt64, as status: SessionStatus, at now: Date) async throws -> Bool
    /// Closes every running session as `status`; returns how many.
    func closeRunningSessions(as status: SessionStatus, at now: Date) async throws -> Int
    /// Closes, as timed out, running sessions older than their time limit plus `grace`; returns
    /// how many.
    func closeOverdueSessions(now: Date, grace: TimeInterval) async throws -> Int
}
