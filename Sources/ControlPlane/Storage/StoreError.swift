/// Why a store refused an operation. Every store implementation reports the same cases, each
/// decided by its own constraints and transactions (never by reading a database's error text),
/// so that the routes map them to answers once, whatever the database.
enum StoreError: Error, Sendable, Equatable {
    /// Another account has this username (usernames are unique regardless of case).
    case duplicateUsername
    /// Another account holds this email address's claim (its keyed hash).
    case duplicateEmail
    /// Another account was created for this device (its keyed hash).
    case duplicateDevice
    /// The account has a password already (``AccountStore/setCredentials(_:of:)``).
    case passwordAlreadySet
    /// What the operation names does not exist, or is not the caller's (someone else's invite).
    case notFound(StoredKind)
    /// The friend request or invite to be made exists already.
    case alreadyExists
    /// The player to invite is a member of the game already.
    case alreadyMember
    /// The caller already holds `held` of something capped per account (the caller passes the cap).
    case capReached(held: Int)
    /// The match has as many players as its game allows.
    case matchFull
}

/// What a ``StoreError/notFound(_:)`` did not find; the raw value is the noun the 404 names.
enum StoredKind: String, Sendable, Equatable {
    case player
    case game
    case invite
    case friendRequest = "friend request"
    case friend
    case membership
    case rankedPlayer = "player on this leaderboard"
}
