import ArbiterClient
import ArgumentParser
import Foundation
import GameCore
import GameRuntime
import NetProtocol
import Synchronization

@main
struct Botswarm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "botswarm",
        abstract: "Load-test an Arbiter server with bots that register, make games, join and play over UDP.",
        discussion: """
            Exit status is non-zero if any bot failed to join or any reliable message was lost. The network \
            options put a seeded conditioner on each bot's traffic (loopback only).
            """
    )

    @Option(help: "The control port, e.g. http://127.0.0.1:8080.")
    var control: String

    @Option(help: "Number of bots.")
    var bots: Int

    @Option(name: .customLong("players-per-game"), help: "Bots per game.")
    var playersPerGame: Int = 16

    @Option(help: "Seconds of play after the ramp.")
    var duration: Double = 30

    @Option(help: "Seconds over which the bots connect.")
    var ramp: Double = 5

    @Option(help: "Chance a datagram is lost, 0...1.") var loss: Double = 0
    @Option(name: .customLong("latency-ms"), help: "One-way latency added.") var latencyMs: Double = 0
    @Option(name: .customLong("jitter-ms"), help: "Latency varies by up to this much.") var jitterMs: Double = 0
    @Option(help: "Chance a datagram is duplicated, 0...1.") var duplicate: Double = 0
    @Option(name: .customLong("chat-rate"), help: "Chat messages per bot per minute, in the game's channel over the WebSocket relay (and as many reliable messages in the match, echoed back).") var chatRate: Double = 6
    @Option(help: "Seed for names, inputs and the conditioner (default: fresh, printed).") var seed: UInt64?
    @Option(help: "Write the report as JSON here.") var report: String?
    @Option(help: "Write the report as a self-contained HTML page here.") var html: String?
    @Option(help: "Bot accounts file: created and reused, so password hashing is paid once.") var accounts: String?
    @Option(help: "Worker threads driving the bots.") var threads: Int = 2

    func validate() throws {
        guard (1...10_000).contains(bots) else { throw ValidationError("--bots must be 1...10000") }
        guard (2...64).contains(playersPerGame) else { throw ValidationError("--players-per-game must be 2...64") }
        guard duration > 0, duration <= 3600, ramp >= 0, ramp <= 600 else { throw ValidationError("--duration must be in (0, 3600], --ramp in [0, 600]") }
        guard (0..<1).contains(loss), (0...1).contains(duplicate), latencyMs >= 0, jitterMs >= 0 else { throw ValidationError("bad network options") }
        guard (1...16).contains(threads) else { throw ValidationError("--threads must be 1...16") }
    }

    func run() async throws {
        let seed = self.seed ?? SystemClock().freshSeed()
        let port = ControlPort(base: control)
        FileHandle.standardError.write(Data("botswarm: seed=\(seed) bots=\(bots) players_per_game=\(playersPerGame) duration=\(duration)s ramp=\(ramp)s\n".utf8))

        // 1. Accounts: reuse the book, register what is missing, log everyone in.
        var book = AccountBook.load(accounts)
        var random = SeededRandomSource(seed: seed)
        while book.accounts.count < bots {
            let name = "bot\(seed % 100_000)_\(book.accounts.count)"
            book.accounts.append(.init(username: name, password: "pw-\(random.next())"))
        }
        book.save(accounts)
        let progress = Progress(total: bots, label: "accounts")
        let sessions: [String?] = await forEachConcurrently(Array(book.accounts.prefix(bots)), limit: 8) { _, account in
            defer { progress.advance() }
            if let session = try? await port.expect("POST", "/v1/sessions", body: ["username": account.username, "password": account.password]) {
                return session["token"] as? String
            }
            let registered = try? await port.expect(
                "POST", "/v1/accounts", body: ["username": account.username, "email": "\(account.username)@bots.invalid", "password": account.password])
            return registered?["token"] as? String
        }
        progress.finish()

        // 2. Games of `playersPerGame`: the first bot of each group creates one, everyone joins.
        let groups = stride(from: 0, to: bots, by: playersPerGame).map { Array($0..<min(bots, $0 + playersPerGame)) }
        let gameLimit = Int(duration + ramp + 60)
        let gameIDs: [Int?] = await forEachConcurrently(groups, limit: 8) { index, group in
            guard let token = sessions[group[0]] ?? nil else { return nil }
            let game = try? await port.expect(
                "POST", "/v1/games", token: token,
                body: ["name": "swarm \(seed % 100_000) #\(index)",
                       // A score limit no one reaches: the match should last the whole run.
                       "settings": ["max_players": max(2, group.count), "time_limit_seconds": gameLimit, "score_limit": 100_000]])
            return game?["id"] as? Int
        }
        let joinProgress = Progress(total: bots, label: "joins")
        let joins: [(token: [UInt8], game: Int)?] = await forEachConcurrently(Array(0..<bots), limit: 16) { bot, _ in
            defer { joinProgress.advance() }
            guard let session = sessions[bot] ?? nil, let game = gameIDs[bot / playersPerGame] else { return nil }
            guard let joined = try? await port.expect("POST", "/v1/games/\(game)/join", token: session),
                let encoded = joined["connect_token"] as? String, let bytes = Data(base64Encoded: encoded)
            else { return nil }
            return (Array(bytes), game)
        }
        joinProgress.finish()
        let failedJoins = joins.filter { $0 == nil }.count

        // 3. Play, polling the server's stats once a second.
        let conditions = LinkConditions(latency: latencyMs / 1000, jitter: jitterMs / 1000, loss: loss, duplicate: duplicate)
        let conditioned = loss > 0 || latencyMs > 0 || jitterMs > 0 || duplicate > 0
        let swarm = Swarm(joins: joins, seed: seed, conditions: conditioned ? conditions : nil, chatPerMinute: chatRate)
        let statsToken = sessions.compactMap { $0 }.first
        let sampler = StatsSampler(port: port, token: statsToken)
        let start = Date()
        let play = swarm.run(threads: threads, ramp: ramp, duration: duration)
        let samplerTask = Task { await sampler.run(until: start.addingTimeInterval(ramp + duration + 2), swarm: swarm, bots: bots) }
        let chat = ChatBots()
        let chatInterval = chatRate > 0 ? 60 / chatRate : Double.infinity
        let gamesByBot = (0..<bots).map { joins[$0] == nil ? nil : gameIDs[$0 / playersPerGame] }
        let chatTask = Task { await chat.run(control: control, sessions: sessions, games: gamesByBot, interval: chatInterval, end: start.addingTimeInterval(ramp + duration)) }
        await play.value
        await samplerTask.value
        await chatTask.value

        // 4. Everyone reads its game's leaderboard.
        let boards = await forEachConcurrently(Array(0..<bots), limit: 16) { bot, _ -> Bool in
            guard let session = sessions[bot] ?? nil, let game = gameIDs[bot / playersPerGame] else { return false }
            return (try? await port.expect("GET", "/v1/leaderboards/game-\(game)?limit=10", token: session)) != nil
        }

        let result = swarm.summarise(
            bots: bots, playersPerGame: playersPerGame, duration: duration, seed: seed, failedJoins: failedJoins, sampler: sampler,
            leaderboardQueries: boards.filter { $0 }.count, conditions: conditions, chat: chat)
        print(result.table)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if let report, let data = try? encoder.encode(result) { FileManager.default.createFile(atPath: report, contents: data) }
        if let html { FileManager.default.createFile(atPath: html, contents: Data(result.html.utf8)) }
        let lost = result.reliableSent - result.reliableDelivered
        print("botswarm: connected=\(result.connected) failed_joins=\(failedJoins) reliable_lost=\(lost) tick_p99_ms=\(String(format: "%.2f", result.serverTickMs.p99))")
        if failedJoins > 0 || lost > 0 { throw ExitCode(1) }
    }
}

/// A progress bar on standard error.
final class Progress: Sendable {
    let total: Int
    let label: String
    private let done = Mutex(0)

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    func advance() {
        let value = done.withLock { value -> Int in
            value += 1
            return value
        }
        if value == total || value % max(1, total / 50) == 0 {
            let filled = value * 30 / max(1, total)
            FileHandle.standardError.write(Data("\r\(label) [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: 30 - filled))] \(value)/\(total)".utf8))
        }
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
