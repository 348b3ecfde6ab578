/// Every store the control port keeps its data in, one per aggregate. The routes and services
/// know only these protocols; ``sqlite(_:)`` is the SQLite implementation of them all,
/// ``postgres(_:)`` the PostgreSQL one.
public struct ControlPlaneStores: Sendable {
    let accounts: any AccountStore
    let friends: any FriendStore
    let games: any GameStore
    let matches: any MatchStore
    let results: any ResultStore
    let leaderboards: any LeaderboardStore
    let chat: any ChatStore

    /// Every store on one SQLite database.
    public static func sqlite(_ database: AppDatabase) -> ControlPlaneStores {
        ControlPlaneStores(
            accounts: SQLiteAccountStore(database: database), friends: SQLiteFriendStore(database: database),
            games: SQLiteGameStore(database: database), matches: SQLiteMatchStore(database: database),
            results: SQLiteResultStore(database: database), leaderboards: SQLiteLeaderboardStore(database: database),
            chat: SQLiteChatStore(database: database))
    }

    /// Every store on one PostgreSQL database (its pool must be running: ``PostgresDatabase/run()``).
    public static func postgres(_ database: PostgresDatabase) -> ControlPlaneStores {
        ControlPlaneStores(
            accounts: PostgresAccountStore(database: database), friends: PostgresFriendStore(database: database),
            games: PostgresGameStore(database: database), matches: PostgresMatchStore(database: database),
            results: PostgresResultStore(database: database), leaderboards: PostgresLeaderboardStore(database: database),
            chat: PostgresChatStore(database: database))
    }
}
