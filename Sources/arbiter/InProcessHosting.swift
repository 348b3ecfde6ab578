import ControlPlane
import Foundation
import GameRuntime
import Logging
import MatchContract
import NetProtocol
import ServiceLifecycle

/// Plugs the in-process game server into the control port's hosting seam.
struct InProcessMatchHost: MatchHosting {
    let directory: MatchDirectory
    let serverAddress: NetAddress
    let catalog: GameCatalog
    let clock: SystemClock

    func createMatch(gameID: Int64, settings: MatchSettings) async throws -> MatchPlacement {
        MatchPlacement(matchID: directory.create(settings: settings, now: clock.monotonicSeconds()), serverAddress: serverAddress)
    }

    func scoreboard(matchID: UInt64) async -> [ScoreLine]? { directory.scoreboard(matchID: matchID, now: clock.monotonicSeconds()) }

    func reserve(matchID: UInt64, forSeconds seconds: Double) async -> Bool {
        directory.reserve(matchID: matchID, until: clock.monotonicSeconds() + seconds)
    }
}

/// Carries finished matches' reports from the game server to the control port's recorder,
/// through the durable outbox: a report is on disk before delivery is tried, and stays there
/// (retried every `retryInterval`, and at the next start) until the recorder has stored it.
struct MatchReportForwarder: Service {
    let directory: MatchDirectory
    let recorder: ResultsRecorder
    let outbox: ResultsOutbox
    let retryInterval: Duration
    let logger: Logger

    func run() async throws {
        // What a previous process could not deliver goes first.
        await deliverPending()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Retries until the stream below ends.
                while !Task.isCancelled {
                    try? await Task.sleep(for: retryInterval)
                    if Task.isCancelled { break }
                    await deliverPending()
                }
            }
            // The stream ends once the game server has stopped and reported every match it
            // still ran as abandoned (see `GameServerHandler.serverStopped`).
            for await report in directory.reports {
                do {
                    try outbox.store(report)
                } catch {
                    logger.error("could not write match report to the outbox: \(error)", metadata: ["match_id": "\(report.matchID)"])
                }
                await deliver(report)
            }
            group.cancelAll()
        }
        await deliverPending()
        // ServiceGroup shuts services down one by one; return only when it is this one's turn.
        try? await gracefulShutdown()
    }

    private func deliverPending() async {
        for report in outbox.pending() { await deliver(report) }
    }

    private func deliver(_ report: MatchReport) async {
        do {
            try await recorder.record(report)
            outbox.remove(matchID: report.matchID)
        } catch {
            logger.error("could not record match results; kept in the outbox for retry: \(error)", metadata: ["match_id": "\(report.matchID)"])
        }
    }
}
