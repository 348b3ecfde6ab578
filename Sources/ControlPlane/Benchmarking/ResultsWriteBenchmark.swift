import Foundation
import MatchContract
import NetProtocol

/// Match results written per second into a real store (`arbiter bench-results`): what the
/// control port does when a game server reports the end of a match (``ResultsRecorder``:
/// the session closed, each player's participation, statistics and two boards, then the
/// board cache), from several reporters at once, as many game servers ending matches would.
///
/// The set-up (players, one game per match, each match running with its players seated)
/// happens before the clock starts; the measured part is only the reports.
public enum ResultsWriteBenchmark {
    public struct Options: Sendable {
        /// Matches reported in the measured part.
        public var matches: Int
        public var playersPerMatch: Int
        /// Reports in flight at once.
        public var concurrency: Int
        /// Distinct players the matches draw from (each match's players are distinct).
        public var players: Int
        public var seed: UInt64

        public init(matches: Int = 1_000, playersPerMatch: Int = 16, concurrency: Int = 16, players: Int = 4_000, seed: UInt64 = 1) {
            self.matches = matches
            self.playersPerMatch = playersPerMatch
            self.concurrency = concurrency
            self.players = players
            self.seed = seed
        }
    }

    public struct Figures: Sendable {
        public var matches: Int
        public var lines: Int
        public var seconds: Double
        /// Each report's time from call to answer, in milliseconds, sorted.
        public var latenciesMs: [Double]

        public var matchesPerSecond: Double { Double(matches) / seconds }
        public var linesPerSecond: Double { Double(lines) / seconds }

        public func latencyMs(percentile: Double) -> Double {
            guard !latenciesMs.isEmpty else { return 0 }
            let rank = Int((percentile / 100 * Double(latenciesMs.count)).rounded(.up)) - 1
            return latenciesMs[min(max(rank, 0), latenciesMs.count - 1)]
        }
    }

    /// Seeds `stores`, which must be empty or at least have no player named `bench_*`, then
    /// reports every match. `progress` hears what the set-up is doing.
    public static func run(
        stores: ControlPlaneStores, options: Options, progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> Figures {
        precondition(options.playersPerMatch >= 1 && options.players >= options.playersPerMatch && options.matches >= 1 && options.concurrency >= 1)
        var keySource = SystemRandomSource()
        // A line per match on the terminal is not what is measured.
        var settings = ControlPlaneSettings()
        settings.logger.logLevel = .warning
        let services = try await ControlPlaneServices.make(
            stores: stores, hosting: NoHosting(), minter: TokenMinter(privateKey: SymmetricKey(random: &keySource), protocolID: 1),
            vault: .random(), settings: settings)
        let now = Date()

        progress("creating \(options.players) players")
        let players = try await inParallel(count: options.players, width: options.concurrency) { index in
            let session = SessionToken.generate()
            let account = try await stores.accounts.createAccount(
                NewAccount(
                    username: "bench_\(index)", displayName: "Bench \(index)", sealedEmail: Data(), emailClaim: Data(SessionToken.generate().hash),
                    passwordHash: nil, createdAt: now),
                firstSession: SessionGrant(tokenHash: session.hash, createdAt: now, expiresAt: now.addingTimeInterval(3600)))
            return account.id
        }

        progress("starting \(options.matches) matches of \(options.playersPerMatch), players seated")
        var random = SeededRandomSource(seed: options.seed)
        let rosters: [[Int64]] = (0..<options.matches).map { _ in
            var picked: [Int64] = []
            var taken = Set<Int>()
            while picked.count < options.playersPerMatch {
                let index = Int(random.next() % UInt64(players.count))
                if taken.insert(index).inserted { picked.append(players[index]) }
            }
            return picked
        }
        let sessions = try await inParallel(count: options.matches, width: options.concurrency) { index in
            let roster = rosters[index]
            let listing = try await stores.games.createGame(
                Game(
                    id: 0, name: "bench \(index)", description: "", createdBy: roster[0], mode: "arena", maxPlayers: options.playersPerMatch,
                    tickRate: 60, scoreLimit: 20, timeLimitSeconds: 600, visibility: "public", status: .open, createdAt: now),
                maxOpenPerCreator: Int.max)
            let session = try await stores.matches.startSession(
                NewGameSession(
                    gameID: listing.game.id, matchID: UInt64(index + 1), serverAddress: "127.0.0.1:40000", startTime: now, timeLimitSeconds: 600)
            ).session
            for player in roster {
                try await stores.matches.takeSeat(player: player, in: session, capacity: options.playersPerMatch, maxConcurrentMatches: Int.max, at: now)
            }
            return session.matchID
        }
        let reports: [MatchReport] = sessions.enumerated().map { index, matchID in
            MatchReport(
                matchID: matchID, endedAt: now.addingTimeInterval(600),
                lines: rosters[index].enumerated().map { place, player in
                    MatchReport.Line(
                        playerID: UInt64(bitPattern: player), score: Int(random.next() % 100), kills: Int(random.next() % 20),
                        deaths: Int(random.next() % 20), placement: place + 1, secondsPlayed: 600)
                })
        }

        progress("reporting \(options.matches) matches, \(options.concurrency) at a time")
        let clock = ContinuousClock()
        let start = clock.now
        let latencies = try await inParallel(count: reports.count, width: options.concurrency) { index in
            let began = clock.now
            guard try await services.recorder.record(reports[index]) == .recorded else { throw Refused(matchID: reports[index].matchID) }
            return (clock.now - began).inSeconds * 1_000
        }
        let seconds = (clock.now - start).inSeconds
        return Figures(
            matches: reports.count, lines: reports.count * options.playersPerMatch, seconds: seconds, latenciesMs: latencies.sorted())
    }

    /// A report the store did not record as new: the benchmark's set-up is wrong.
    struct Refused: Error, CustomStringConvertible {
        let matchID: UInt64
        var description: String { "match \(matchID) was not recorded as a new result" }
    }

    /// `body(0..<count)`, at most `width` at a time, the answers in index order.
    static func inParallel<T: Sendable>(count: Int, width: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var answers = [T?](repeating: nil, count: count)
            var next = 0
            while next < min(width, count) {
                let index = next
                group.addTask { (index, try await body(index)) }
                next += 1
            }
            while let (index, answer) = try await group.next() {
                answers[index] = answer
                if next < count {
                    let index = next
                    group.addTask { (index, try await body(index)) }
                    next += 1
                }
            }
            return answers.compactMap { $0 }
        }
    }

    /// Hosting for a control port that only records results: it places no matches.
    struct NoHosting: MatchHosting {
        let catalog = GameCatalog([GameCatalog.Mode(name: "arena", maps: ["default"])])
        func createMatch(gameID: Int64, settings: MatchSettings) async throws -> MatchPlacement { throw StoreError.notFound(.game) }
        func scoreboard(matchID: UInt64) async -> [ScoreLine]? { nil }
        func reserve(matchID: UInt64, forSeconds seconds: Double) async -> Bool { false }
    }
}
