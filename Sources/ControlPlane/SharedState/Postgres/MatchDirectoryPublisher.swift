import Foundation
import Logging
import ServiceLifecycle

/// Keeps this instance's game server current in the database's match directory, one
/// ``step()`` per ``PostgresMatchDirectory/pollInterval``: it marks the server alive, applies
/// the reservations other instances made for its matches, and writes the rows of the matches
/// whose scoreboard or empty deadline changed since the last step (and deletes those of ended
/// ones). So a reservation made through another instance reaches the game server within one
/// poll interval (0.5 s by default) plus a statement's time, and a remote scoreboard is at
/// most that old.
public actor MatchDirectoryPublisher: Service {
    public let directory: PostgresMatchDirectory
    public let local: any LocalMatchHosting
    /// What the database holds for each of this server's matches, as of the last step.
    private var published: [UInt64: HostedMatch] = [:]

    public init(directory: PostgresMatchDirectory, local: any LocalMatchHosting) {
        self.directory = directory
        self.local = local
    }

    private var logger: Logger { directory.instance.database.logger }

    /// One round; a failure is logged and the next round tries again.
    public func step() async {
        do {
            if try await directory.heartbeat(addresses: local.serverAddresses, playEndpoint: local.publicPlayEndpoint) {
                // Registered afresh: whatever was listed went with the old row.
                published.removeAll()
            }
            for reservation in try await directory.takeReservations() where reservation.seconds > 0 {
                _ = try await local.reserve(matchID: reservation.matchID, forSeconds: reservation.seconds)
            }
            let now = local.now()
            let running = local.runningMatches()
            let changed = running.filter { published[$0.matchID] != $0 }
            let runningIDs = Set(running.map(\.matchID))
            let ended = published.keys.filter { !runningIDs.contains($0) }
            guard !changed.isEmpty || !ended.isEmpty else { return }
            try await directory.publish(changed, now: now, ended: ended)
            for match in changed { published[match.matchID] = match }
            for id in ended { published[id] = nil }
        } catch {
            logger.error("match directory: a poll failed: \(PostgresDatabase.reason(error))")
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.step()
                try? await Task.sleep(for: .seconds(self.directory.pollInterval))
            }
        }
    }
}
