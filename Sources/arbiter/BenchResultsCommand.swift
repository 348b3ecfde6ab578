import ArgumentParser
import ControlPlane
import Foundation
import Logging

struct BenchResults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-results",
        abstract: "Measure match results written per second into a store (a new SQLite file, or a PostgreSQL database).",
        discussion: """
            Creates --players players and --matches running matches of --players-per-match, each with \
            its players seated (not timed), then reports every match's results as a game server does \
            (the session closed; each player's participation, statistics and two leaderboards; the \
            board cache), --concurrency reports at a time. Ends with one line: \
            `bench-results: store=KIND matches=N players_per_match=P concurrency=C seconds=S \
            results_per_s=R lines_per_s=L p50_ms=X p99_ms=Y`. The SQLite file must not exist yet; \
            a PostgreSQL database gets the players `bench_*` and should be a throwaway one.
            """
    )

    @Option(help: "sqlite:PATH (a new file) or postgres://USER@HOST:PORT/DB (password from PGPASSWORD).")
    var database: String

    @Option(help: "Matches to report.")
    var matches: Int = 1_000

    @Option(name: .customLong("players-per-match"), help: "Players in each match (lines in each report).")
    var playersPerMatch: Int = 16

    @Option(help: "Distinct players the matches draw from.")
    var players: Int = 4_000

    @Option(help: "Reports in flight at once (game servers ending matches together).")
    var concurrency: Int = 16

    @Option(help: "Seed for the rosters and scores.")
    var seed: UInt64 = 1

    func validate() throws {
        guard (1...1_000_000).contains(matches) else { throw ValidationError("--matches must be 1...1000000") }
        guard (1...256).contains(playersPerMatch) else { throw ValidationError("--players-per-match must be 1...256") }
        guard (playersPerMatch...1_000_000).contains(players) else {
            throw ValidationError("--players must be at least --players-per-match and at most 1000000")
        }
        guard (1...1_024).contains(concurrency) else { throw ValidationError("--concurrency must be 1...1024") }
        do { _ = try DatabaseLocation(parsing: database) } catch { throw ValidationError("--database: \(error.reason)") }
    }

    func run() async throws {
        lineBufferedOutput()
        let options = ResultsWriteBenchmark.Options(
            matches: matches, playersPerMatch: playersPerMatch, concurrency: concurrency, players: players, seed: seed)
        let progress: @Sendable (String) -> Void = { print("bench-results: \($0)") }
        let location: DatabaseLocation
        do { location = try DatabaseLocation(parsing: database) } catch { throw ValidationError("--database: \(error.reason)") }
        let figures: ResultsWriteBenchmark.Figures
        switch location {
        case .sqlite(let path):
            guard !FileManager.default.fileExists(atPath: path) else {
                throw failure("bench-results", "\(path) exists: the benchmark writes into a new SQLite file only")
            }
            let database: AppDatabase
            do { database = try AppDatabase.file(at: path) } catch { throw failure("bench-results", "cannot create sqlite:\(path): \(error)") }
            figures = try await ResultsWriteBenchmark.run(stores: .sqlite(database), options: options, progress: progress)
        case .postgres(let postgres):
            var logger = Logger(label: "arbiter.bench-results")
            logger.logLevel = .warning
            let database = try PostgresDatabase(
                location: postgres, password: postgres.password == nil ? ProcessInfo.processInfo.environment["PGPASSWORD"] : nil,
                maximumConnections: max(20, concurrency), logger: logger)
            do { try await database.migrate() } catch let problem as PostgresDatabase.ConnectionFailure { throw failure("bench-results", problem.description) }
            figures = try await database.whileRunning {
                try await ResultsWriteBenchmark.run(stores: .postgres(database), options: options, progress: progress)
            }
        }
        let figuresText = String(
            format: "seconds=%.3f results_per_s=%.0f lines_per_s=%.0f p50_ms=%.2f p99_ms=%.2f", figures.seconds, figures.matchesPerSecond,
            figures.linesPerSecond, figures.latencyMs(percentile: 50), figures.latencyMs(percentile: 99))
        print("bench-results: store=\(location.kind) matches=\(figures.matches) players_per_match=\(playersPerMatch) concurrency=\(concurrency) \(figuresText)")
    }
}
