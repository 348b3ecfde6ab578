@testable import ControlPlane
import Foundation
import Testing

/// Makes an empty set of stores for one test. The store suites (``AccountStoreTests`` and the
/// others in this folder) are written against the store protocols and run once per factory in
/// ``all``: another implementation (PostgreSQL) adds its factory there and must pass the very
/// same suites.
struct StoreFactory: Sendable, CustomTestStringConvertible {
    let name: String
    /// Fresh stores, and what to do once the test is done with them.
    let make: @Sendable () async throws -> (stores: ControlPlaneStores, tearDown: @Sendable () -> Void)

    var testDescription: String { name }

    static let all: [StoreFactory] = [.sqliteFile] + (PostgresTestCluster.isAvailable ? [.postgres] : [])

    /// SQLite on a real file (WAL, a pool of connections, as in production) in a temporary folder.
    static let sqliteFile = StoreFactory(name: "SQLite file") {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-stores-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let database = try AppDatabase.file(at: folder.appendingPathComponent("arbiter.sqlite").path)
        return (.sqlite(database), { try? FileManager.default.removeItem(at: folder) })
    }

    /// PostgreSQL: a fresh database on the test process's one throwaway cluster
    /// (``PostgresTestCluster``), migrated, its pool running until the test is done.
    static let postgres = StoreFactory(name: "PostgreSQL") {
        let database = try await PostgresTestCluster.shared().freshDatabase()
        let pool = Task { try await database.run() }
        do {
            try await database.migrate()
        } catch {
            pool.cancel()
            throw error
        }
        return (.postgres(database), { pool.cancel() })
    }

    /// Runs `body` on fresh stores.
    func with<T>(_ body: (ControlPlaneStores) async throws -> T) async throws -> T {
        let (stores, tearDown) = try await make()
        defer { tearDown() }
        return try await body(stores)
    }
}

/// What the suites build their cases from.
extension ControlPlaneStores {
    static func newAccount(_ username: String, email: String? = nil) -> NewAccount {
        NewAccount(
            username: username, displayName: "The \(username)", sealedEmail: Data("sealed \(username)".utf8),
            emailClaim: Data("claim of \(email ?? "\(username.lowercased())@example.com")".utf8), passwordHash: "hash of \(username)",
            createdAt: Date())
    }

    static func newSession(lifetime: TimeInterval = 3600) -> SessionGrant {
        SessionGrant(tokenHash: Data(UUID().uuidString.utf8), createdAt: Date(), expiresAt: Date().addingTimeInterval(lifetime))
    }

    func player(_ username: String) async throws -> Account {
        try await accounts.createAccount(Self.newAccount(username), firstSession: Self.newSession())
    }

    static func draft(by owner: Int64, name: String = "Arena", maxPlayers: Int = 4, visibility: String = "public", timeLimitSeconds: Int = 600) -> Game {
        Game(
            id: 0, name: name, description: "", createdBy: owner, mode: "arena", maxPlayers: maxPlayers, tickRate: 60, scoreLimit: 20,
            timeLimitSeconds: timeLimitSeconds, visibility: visibility, status: .open, createdAt: Date())
    }

    func game(by owner: Int64, name: String = "Arena", maxPlayers: Int = 4, visibility: String = "public", timeLimitSeconds: Int = 600) async throws -> Game {
        try await games.createGame(
            Self.draft(by: owner, name: name, maxPlayers: maxPlayers, visibility: visibility, timeLimitSeconds: timeLimitSeconds),
            maxOpenPerCreator: 100
        ).game
    }

    func runningSession(of game: Int64, matchID: UInt64, startedAt start: Date = Date(), timeLimitSeconds: Int = 600) async throws -> GameSession {
        try await matches.startSession(
            NewGameSession(gameID: game, matchID: matchID, serverAddress: "127.0.0.1:40000", startTime: start, timeLimitSeconds: timeLimitSeconds)
        ).session
    }
}

/// A store call expected to throw `expected`.
func expectStoreError<T>(
    _ expected: StoreError, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected \(expected), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as StoreError {
        #expect(error == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
    }
}
