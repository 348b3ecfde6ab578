import Foundation

enum GameStatus: String, Sendable {
    /// Joinable, and its settings may change.
    case open
    case closed
}

/// A game: a room with settings that matches are started from.
struct Game: Sendable, Equatable {
    /// 0 for a game not stored yet (``GameStore/createGame(_:maxOpenPerCreator:)`` assigns it).
    var id: Int64
    var name: String
    var description: String
    var createdBy: Int64
    var mode: String
    var maxPlayers: Int
    var tickRate: Int
    var scoreLimit: Int
    var timeLimitSeconds: Int
    /// "public" or "private" (``GameFields`` checks it).
    var visibility: String
    var status: GameStatus
    var createdAt: Date
    var map: String = "default"

    var isPublic: Bool { visibility == "public" }
}

/// A game as lists show it.
struct GameListing: Sendable, Equatable {
    var game: Game
    var memberCount: Int
}

/// How one player stands toward one game: what its visibility rules need to know.
struct GameStanding: Sendable, Equatable {
    var isMember: Bool
    /// Holds an invite that is pending or accepted (not declined).
    var hasInvite: Bool
}

/// An invite to a game.
struct Invite: Sendable, Equatable {
    enum Status: String, Sendable {
        case pending, accepted, declined
    }

    var id: Int64
    var gameID: Int64
    var gameName: String
    var inviterID: Int64
    var inviterName: String
    var inviteeID: Int64
    var status: Status
    var createdAt: Date
}

/// A route's access rule for a game, run by the store inside its transaction on the game as it
/// stands there, so that what it checked still holds when the write commits. It throws to refuse
/// (the store rethrows what it threw and changes nothing).
typealias GameCheck = @Sendable (_ game: Game, _ standing: GameStanding) throws -> Void

/// Games, their members and their invites.
protocol GameStore: Sendable {
    /// Stores `game` (its id is assigned) with its creator as first member and its own
    /// leaderboard (``BoardKey/game(_:)``, keeping each player's best). Throws
    /// ``StoreError/capReached(held:)`` when its creator has `maxOpenPerCreator` open games.
    func createGame(_ game: Game, maxOpenPerCreator: Int) async throws -> GameListing
    /// The game and how `player` stands toward it; nil when there is no such game.
    func game(_ id: Int64, for player: Int64) async throws -> (listing: GameListing, standing: GameStanding)?
    /// Open public games in id order: at most `limit` with ids above `cursor`.
    func openPublicGames(after cursor: Int64, limit: Int) async throws -> [GameListing]
    /// Runs `edit` on the game (with `player`'s standing) and saves what it leaves; its id,
    /// creator and creation time stay. ``StoreError/notFound(_:)`` when there is no such game.
    func updateGame(
        _ id: Int64, by player: Int64, _ edit: @escaping @Sendable (inout Game, GameStanding) throws -> Void
    ) async throws -> GameListing
    /// Invites `invitee` (an existing player) to the game once `check` passes for `inviter`, or
    /// renews a declined invite. Throws ``StoreError/alreadyMember``,
    /// ``StoreError/capReached(held:)`` (the inviter has `maxPending` invites pending) or
    /// ``StoreError/alreadyExists`` (a pending or accepted invite), in that order.
    func invite(
        _ invitee: Int64, to game: Int64, from inviter: Int64, maxPending: Int, check: @escaping GameCheck
    ) async throws -> Invite
    /// `invitee`'s pending invites in id order: at most `limit` with ids above `cursor`.
    func pendingInvites(for invitee: Int64, after cursor: Int64, limit: Int) async throws -> [Invite]
    /// Accepts (making `invitee` a member) or declines `invitee`'s pending invite `id`, and
    /// returns it as answered; ``StoreError/notFound(_:)`` when `invitee` holds no such pending invite.
    @discardableResult
    func answerInvite(_ id: Int64, by invitee: Int64, accept: Bool) async throws -> Invite
    /// Ends `player`'s membership once `check` passes, and their place in the game's running
    /// match. ``StoreError/notFound(_:)`` when there is no such game or no such membership.
    func leave(_ game: Int64, player: Int64, at now: Date, check: @escaping GameCheck) async throws
}
