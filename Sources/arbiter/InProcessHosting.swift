import ControlPlane
import Foundation
import GameRuntime
import Logging
import NetProtocol
import ServiceLifecycle

/// Plugs the in-process game server into the control port's hosting seam.
struct InProcessMatchHost: MatchHosting {
    let directory: MatchDirectory
    let serverAddress: NetAddress
    let clock = SystemClock()

    func createMatch(gameID: Int64, settings: MatchSettings) async throws -> MatchPlacement {
        let id = directory.create(
            settings: .init(maxPlayers: settings.maxPlayers, tickRate: settings.tickRate, scoreLimit: settings.scoreLimit,
                            timeLimitSeconds: settings.timeLimitSeconds, map: settings.map),
            now: clock.monotonicSeconds())
        return MatchPlacement(matchID: id, serverAddress: serverAddress)
    }

    func scoreboard(matchID: UInt64) async -> [LiveScore]? {
        directory.scoreboard(matchID: matchID, now: clock.monotonicSeconds())?.map {
            LiveScore(playerID: Int64(bitPattern: $0.playerID), displayName: $0.displayName, score: $0.score, kills: $0.kills, deaths: $0.deaths)
        }
    }
}

/// Carries finished matches' reports from the game server to the control port's recorder.
struct MatchReportForwarder: Service {
    let directory: MatchDirectory
    let recorder: ResultsRecorder
    let logger: Logger

    func run() async throws {
        await withGracefulShutdownHandler {
            for await report in directory.reports {
                let results = MatchResults(matchID: report.matchID, endedAt: report.endedAt, players: report.lines.map {
                    .init(playerID: Int64(bitPattern: $0.playerID), score: $0.score, kills: $0.kills, deaths: $0.deaths, placement: $0.placement,
                          timePlayedSeconds: $0.secondsPlayed)
                })
                do {
                    try await recorder.record(results)
                } catch {
                    logger.error("could not record match results: \(error)", metadata: ["match_id": "\(report.matchID)"])
                }
            }
        } onGracefulShutdown: {
            directory.finish()
        }
    }
}
