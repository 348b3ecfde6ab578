import ControlPlane
import Foundation
import GameRuntime
import Logging
import MatchContract
import NetProtocol
import ServiceLifecycle

/// Plugs the in-process game server's workers into the control port's hosting seam: a new
/// match goes to the least-loaded worker, and its tokens name that worker's address.
struct InProcessMatchHost: MatchHosting {
    let pool: GameWorkerPool
    let catalog: GameCatalog
    let clock: SystemClock
    /// The workers' WebSocket side, for `GET /v1/play`.
    let streams: StreamGateway
    /// `--play-url`: where clients reach `streams`, when not as they reached the control port.
    let publicPlayEndpoint: PlayEndpoint?

    var playGateway: (any PlayStreamGateway)? { streams }

    func createMatch(gameID: Int64, settings: MatchSettings) async throws -> MatchPlacement {
        let (matchID, worker) = pool.createMatch(settings: settings, now: clock.monotonicSeconds())
        return MatchPlacement(matchID: matchID, serverAddress: worker.address)
    }

    func scoreboard(matchID: UInt64) async -> [ScoreLine]? {
        pool.worker(running: matchID)?.directory.scoreboard(matchID: matchID, now: clock.monotonicSeconds())
    }

    func reserve(matchID: UInt64, forSeconds seconds: Double) async -> Bool {
        pool.worker(running: matchID)?.directory.reserve(matchID: matchID, until: clock.monotonicSeconds() + seconds) ?? false
    }
}

/// The match directory in the database lists the in-process game server's matches.
extension InProcessMatchHost: LocalMatchHosting {
    var serverAddresses: [NetAddress] { pool.workers.map(\.address) }

    func now() -> Double { clock.monotonicSeconds() }

    func runningMatches() -> [HostedMatch] {
        let now = now()
        return pool.workers.flatMap { worker in
            worker.directory.listings(now: now).map {
                HostedMatch(matchID: $0.matchID, serverAddress: worker.address, scoreboard: $0.scoreboard, emptyUntil: $0.emptyUntil)
            }
        }
    }
}

/// Carries finished matches' reports from the game server to the control port's recorder,
/// through the durable outbox: a report is on disk before delivery is tried, and stays there
/// (retried every `retryInterval`, and at the next start) until the recorder has stored it.
struct MatchReportForwarder: Service {
    /// Every game worker's directory: their reports are forwarded as they come.
    let directories: [MatchDirectory]
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
            // Each stream ends once its worker has stopped and reported every match it still
            // ran as abandoned (see `GameServerHandler.serverStopped`).
            await withTaskGroup(of: Void.self) { workers in
                for directory in directories {
                    workers.addTask {
                        for await report in directory.reports {
                            do {
                                try outbox.store(report)
                            } catch {
                                logger.error("could not write match report to the outbox: \(error)", metadata: ["match_id": "\(report.matchID)"])
                            }
                            await deliver(report)
                        }
                    }
                }
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
