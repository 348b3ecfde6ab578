import Foundation
import MatchContract
import NetProtocol

/// ``MatchHosting`` for a control port among several on one PostgreSQL database: new matches
/// go to this process's game server (`local`; placement across servers is the fleet's
/// business), and are listed in the database's match directory (``PostgresMatchDirectory``)
/// as they are created. A match this process does not run is looked up there: a join for a
/// match another instance's live game server runs reserves it through the database instead of
/// abandoning it, and its scoreboard is the one that server last published.
public struct DirectoryMatchHosting: MatchHosting {
    public let local: any LocalMatchHosting
    public let directory: PostgresMatchDirectory

    public init(local: any LocalMatchHosting, directory: PostgresMatchDirectory) {
        self.local = local
        self.directory = directory
    }

    public var catalog: GameCatalog { local.catalog }
    /// This process's game server takes the WebSocket players of the matches it runs.
    public var playGateway: (any PlayStreamGateway)? { local.playGateway }

    public func createMatch(gameID: Int64, settings: MatchSettings) async throws -> MatchPlacement {
        let placement = try await local.createMatch(gameID: gameID, settings: settings)
        // Listed before the join that created it stores its session: another instance that
        // finds the session finds the match too. Unlisted, the match lapses unjoined.
        try await directory.list(placement)
        return placement
    }

    public func scoreboard(matchID: UInt64) async -> [ScoreLine]? {
        if let lines = await local.scoreboard(matchID: matchID) { return lines }
        do {
            return try await directory.remoteScoreboard(matchID: matchID)
        } catch {
            directory.instance.database.logger.error("match directory: could not read a scoreboard: \(PostgresDatabase.reason(error))")
            return nil
        }
    }

    /// This host's endpoint for its own matches; for another instance's, the one its server
    /// listed (nil when it listed none, or the directory cannot be read: logged).
    public func playEndpoint(matchID: UInt64) async -> PlayEndpoint? {
        if await local.scoreboard(matchID: matchID) != nil { return local.publicPlayEndpoint }
        do {
            return try await directory.remotePlayEndpoint(matchID: matchID)
        } catch {
            directory.instance.database.logger.error("match directory: could not read a play endpoint: \(PostgresDatabase.reason(error))")
            return nil
        }
    }

    /// Throws when the directory cannot be read: the join then fails instead of abandoning a
    /// match that may well be running elsewhere.
    public func reserve(matchID: UInt64, forSeconds seconds: Double) async throws -> Bool {
        if try await local.reserve(matchID: matchID, forSeconds: seconds) { return true }
        do {
            return try await directory.reserveRemote(matchID: matchID, forSeconds: seconds)
        } catch {
            directory.instance.database.logger.error("match directory: could not reserve: \(PostgresDatabase.reason(error))")
            throw error
        }
    }
}
