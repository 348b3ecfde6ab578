/// One of a player's friendships or friend requests, as that player sees it.
struct Friendship: Sendable, Equatable {
    enum Standing: String, Sendable {
        case friend
        /// They asked; the player has not answered.
        case incoming
        /// The player asked; they have not answered.
        case outgoing
    }

    /// The other player.
    var playerID: Int64
    var username: String
    var displayName: String
    var standing: Standing
}

/// What asking someone to be a friend did.
enum FriendRequestResult: Sendable, Equatable {
    /// A new request, pending until the other player answers.
    case requested
    /// The other player had asked first: their request is accepted now (or was already).
    case acceptedTheirs
}

/// Friendships and friend requests between players.
protocol FriendStore: Sendable {
    /// `player`'s friendships and requests either way, ordered by the other player's username
    /// (regardless of case): at most `limit` of those after `cursor` ("" for the first page).
    func friendships(of player: Int64, after cursor: String, limit: Int) async throws -> [Friendship]
    /// `player` asks `other`. Throws ``StoreError/alreadyExists`` when `player` has asked `other`
    /// before, ``StoreError/capReached(held:)`` when `player` has `maxPending` requests out.
    func requestFriendship(from player: Int64, to other: Int64, maxPending: Int) async throws -> FriendRequestResult
    /// Accepts `requester`'s pending request to `addressee`; ``StoreError/notFound(_:)`` when none.
    func acceptFriendRequest(from requester: Int64, to addressee: Int64) async throws
    /// Deletes `requester`'s pending request to `addressee`; ``StoreError/notFound(_:)`` when none.
    func declineFriendRequest(from requester: Int64, to addressee: Int64) async throws
    /// Ends the friendship or request between the two, whoever asked; ``StoreError/notFound(_:)``
    /// when there is none.
    func removeFriendship(between player: Int64, and other: Int64) async throws
}
