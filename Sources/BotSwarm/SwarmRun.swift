import ArbiterClient
import Foundation
import GameCore
import GameRuntime
import NetProtocol

/// Everything a swarm run is told.
public struct SwarmOptions: Sendable {
    public var control: String
    public var bots: Int
    public var playersPerGame = 16
    public var duration = 30.0
    public var ramp = 5.0
    public var conditions = LinkConditions(latency: 0, jitter: 0, loss: 0, duplicate: 0)
    /// Chat messages per bot per minute (and as many reliable messages in the match).
    public var chatRate = 6.0
    public var seed: UInt64
    public var accounts: String?
    public var threads = 2
    public var light = false
    /// Light bots use io_uring for their sockets when the kernel allows it; false forces the
    /// plain-syscall fallback.
    public var ioUring = true
    /// Pin the bot worker threads to these CPUs (nil: wherever the scheduler puts them).
    public var cpus: CPUList?
    /// Light bots as SDK clients with prediction off, as they were before ``LightClient``: the
    /// comparison for the light bots' cost.
    public var sdkLight = false
    /// No progress bars or live line (tests).
    public var quiet = false

    public init(control: String, bots: Int, seed: UInt64) {
        self.control = control
        self.bots = bots
        self.seed = seed
    }

    var conditioned: Bool { conditions.loss > 0 || conditions.latency > 0 || conditions.jitter > 0 || conditions.duplicate > 0 }
}

/// Why a swarm run could not start; its description is the line `botswarm` prints.
public enum SwarmError: Error, CustomStringConvertible, Equatable {
    /// Nothing answers at the control port's URL.
    case controlPortUnreachable(url: String, reason: String)
    /// The control port answered, but no bot could log in or register.
    case noAccounts(url: String, reason: String)

    public var description: String {
        switch self {
        case .controlPortUnreachable(let url, let reason): "cannot reach the control port at \(url) (\(reason))"
        case .noAccounts(let url, let reason): "no bot could log in or register at the control port at \(url): \(reason)"
        }
    }
}

/// A whole run against a control port: accounts, games, joins, play over UDP with chat, the
/// leaderboard at the end, and the report. Throws ``SwarmError`` before any bot plays when the
/// control port cannot be reached or no bot gets an account.
public func runSwarm(_ options: SwarmOptions) async throws(SwarmError) -> SwarmReport {
    let port = ControlPort(base: options.control)
    let bots = options.bots
    let quiet = options.quiet

    // 0. Is anybody there? (Otherwise every step below fails quietly, bot by bot.)
    do {
        _ = try await port.call("GET", "/healthz")
    } catch {
        throw .controlPortUnreachable(url: port.base, reason: connectionFailure(error))
    }

    // 1. Accounts: reuse the book, register what is missing, log everyone in.
    var book = AccountBook.load(options.accounts)
    var random = SeededRandomSource(seed: options.seed)
    while book.accounts.count < bots {
        let name = "bot\(options.seed % 100_000)_\(book.accounts.count)"
        book.accounts.append(.init(username: name, password: "pw-\(random.next())"))
    }
    book.save(options.accounts)
    let progress = Progress(total: bots, label: "accounts", quiet: quiet)
    let attempts: [(token: String?, failure: String?)] = await forEachConcurrently(Array(book.accounts.prefix(bots)), limit: 8) { _, account in
        defer { progress.advance() }
        if let session = try? await port.expect("POST", "/v1/sessions", body: ["username": account.username, "password": account.password]) {
            return (session["token"] as? String, nil)
        }
        do {
            let registered = try await port.expect(
                "POST", "/v1/accounts", body: ["username": account.username, "email": "\(account.username)@bots.invalid", "password": account.password])
            return (registered["token"] as? String, nil)
        } catch {
            return (nil, String(describing: error))
        }
    }
    progress.finish()
    let sessions = attempts.map(\.token)
    if sessions.allSatisfy({ $0 == nil }) {
        throw .noAccounts(url: port.base, reason: attempts.lazy.compactMap(\.failure).first ?? "no session token in the answers")
    }

    // 2. Games of `playersPerGame`: the first bot of each group creates one, everyone joins.
    let perGame = options.playersPerGame
    let groups = stride(from: 0, to: bots, by: perGame).map { Array($0..<min(bots, $0 + perGame)) }
    let gameLimit = Int(options.duration + options.ramp + 60)
    let gameIDs: [Int?] = await forEachConcurrently(groups, limit: 8) { index, group in
        guard let token = sessions[group[0]] ?? nil else { return nil }
        let game = try? await port.expect(
            "POST", "/v1/games", token: token,
            body: ["name": "swarm \(options.seed % 100_000) #\(index)",
                   // A score limit no one reaches: the match should last the whole run.
                   "settings": ["max_players": max(2, group.count), "time_limit_seconds": gameLimit, "score_limit": 100_000]])
        return game?["id"] as? Int
    }
    let joinProgress = Progress(total: bots, label: "joins", quiet: quiet)
    let joins: [(token: [UInt8], game: Int)?] = await forEachConcurrently(Array(0..<bots), limit: 16) { bot, _ in
        defer { joinProgress.advance() }
        guard let session = sessions[bot] ?? nil, let game = gameIDs[bot / perGame] else { return nil }
        guard let joined = try? await port.expect("POST", "/v1/games/\(game)/join", token: session),
            let encoded = joined["connect_token"] as? String, let bytes = Data(base64Encoded: encoded)
        else { return nil }
        return (Array(bytes), game)
    }
    joinProgress.finish()
    let failedJoins = joins.filter { $0 == nil }.count

    // 3. Play, sampling the server's stats once a second.
    let swarm = Swarm(
        brain: ArenaBot(), joins: joins, seed: options.seed, conditions: options.conditioned ? options.conditions : nil, chatPerMinute: options.chatRate,
        light: options.light, ioUring: options.ioUring, cpus: options.cpus, sdkLight: options.sdkLight)
    let statsToken = sessions.compactMap { $0 }.first ?? ""
    let sampler = StatsSampler(probe: StatsRouteProbe(port: port, token: statsToken))
    await sampler.takeBaseline()
    let start = Date()
    let play = swarm.run(threads: options.threads, ramp: options.ramp, duration: options.duration)
    let samplerTask = Task {
        await sampler.run(
            from: start, window: StatsSampler.window(ramp: options.ramp, duration: options.duration), until: start.addingTimeInterval(options.ramp + options.duration + 2),
            bots: swarm, total: bots, failedJoins: failedJoins, quiet: quiet)
    }
    let chat = ChatBots()
    let chatInterval = options.chatRate > 0 ? 60 / options.chatRate : Double.infinity
    let gamesByBot = (0..<bots).map { joins[$0] == nil ? nil : gameIDs[$0 / perGame] }
    let chatTask = Task {
        await chat.run(control: options.control, sessions: sessions, games: gamesByBot, interval: chatInterval, end: start.addingTimeInterval(options.ramp + options.duration))
    }
    await play.value
    if let error = swarm.pinFailure.withLock({ $0 }), let cpus = options.cpus {
        FileHandle.standardError.write(Data("botswarm: could not pin the bot threads to CPUs \(cpus): \(String(cString: strerror(error)))\n".utf8))
    }
    await samplerTask.value
    await chatTask.value

    // 4. Everyone reads its game's leaderboard.
    let boards = await forEachConcurrently(Array(0..<bots), limit: 16) { bot, _ -> Bool in
        guard let session = sessions[bot] ?? nil, let game = gameIDs[bot / perGame] else { return false }
        return (try? await port.expect("GET", "/v1/leaderboards/game-\(game)?limit=10", token: session)) != nil
    }
    return swarm.summarise(options, failedJoins: failedJoins, sampler: sampler, leaderboardQueries: boards.filter { $0 }.count, chat: chat)
}
