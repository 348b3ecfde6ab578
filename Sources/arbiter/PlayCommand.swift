import ArbiterClient
import ArgumentParser
import Foundation
import GameCore
import MatchContract
import GameRuntime
import NetProtocol

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct Play: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play the arena in the terminal (or watch it), on the client SDK.",
        discussion: """
            Keys: W A S D move, J L turn the aim (K aims at the nearest player), Space fires hitscan, \
            F fires a projectile, Q quits. On screen: @ is you, + your aim, letters the other players \
            (x a player who is down), * projectiles, # walls; the scores read letter points/kills-deaths. \
            Get in with a token file (--token) or through the control port (--control URL --username U \
            --password P --game ID; without --username and --password, as a new device account, which \
            is how a bot joins a game: --control URL --game ID --bot). --watch only spectates; --bot plays by itself (for demos and tests). \
            At the end of a match (known through --control) it shows the final standings. Ends with a \
            `play:` summary line whose last field is state=: match_over, quit, connected (--seconds ran \
            out), or the failure (token_expired, invalid_token, disconnected, ...); exit status 0 only \
            for the first three.
            """
    )

    @Option(help: "A connect token file (from `arbiter token`: joins the default arena).")
    var token: String?

    @Option(help: "The control port, e.g. http://127.0.0.1:8080 (with --game; --username and --password, or neither: a new device account).")
    var control: String?

    @Option(help: "Account name on the control port.")
    var username: String?

    @Option(help: "Account password on the control port.")
    var password: String?

    @Option(help: "Game id to join on the control port.")
    var game: Int?

    @Flag(help: "Only spectate.")
    var watch = false

    @Flag(help: "Let a simple bot play (moves, aims at the nearest player, fires).")
    var bot = false

    @Option(help: "Stop after this many seconds (default: until Q).")
    var seconds: Double?

    @Option(name: .customLong("tick-rate"), help: "The match's tick rate (must match the server; the default arena runs at 60).")
    var tickRate: Int = 60

    @Option(help: "The match's map: default or empty.")
    var map: String = "default"

    func validate() throws {
        guard (token == nil) != (control == nil) else { throw ValidationError("give either --token or --control with --game (and --username and --password, or neither)") }
        if control != nil, game == nil { throw ValidationError("--control needs --game") }
        if (username == nil) != (password == nil) { throw ValidationError("--username and --password go together (neither: a new device account)") }
        if token != nil, username != nil || game != nil { throw ValidationError("--username, --password and --game are for --control") }
        guard (10...240).contains(tickRate) else { throw ValidationError("--tick-rate must be 10...240") }
    }

    func run() async throws {
        let connectToken: ConnectToken
        var settings = MatchSettings(tickRate: tickRate, map: map)
        var joined: ControlPortSession.Joined?
        if let token {
            switch TokenFile.load(token, nowUnix: SystemClock().unixSeconds()) {
            case .success(let loaded): connectToken = loaded
            case .failure(let problem):
                let exit = failure("play", TokenFile.message(problem, path: token))
                print("\(Self.summaryLine()) state=\(problem.state)")
                throw exit
            }
        } else {
            let session: ControlPortSession.Joined
            do {
                let account: ControlPortSession.Account = if let username, let password { .password(username: username, password: password) } else { .newDevice }
                session = try await ControlPortSession.join(control: control ?? "", as: account, game: game ?? 0, watching: watch)
            } catch {
                throw failure("play", error.message)
            }
            connectToken = session.token
            settings = session.settings
            joined = session
        }
        let interactive = isatty(0) == 1 && !bot && !watch
        let terminal = interactive ? RawTerminal() : nil
        defer { terminal?.restore() }
        var outcome = try runGame(token: connectToken, settings: settings, terminal: terminal)
        if outcome.state == "closed_by_server", let joined {
            // The server ends every connection of a match when the match ends; the control
            // port says whether that is what happened (or the server stopped, or kicked us).
            if await ControlPortSession.matchEnded(joined) { outcome.state = "match_over" }
        }
        terminal?.restore()
        if outcome.state == "match_over" || outcome.state == "closed_by_server" {
            let title = outcome.state == "match_over" ? "match over: final standings" : "scores when the connection closed"
            print(Renderer.standings(outcome.lastFrame, you: outcome.yourEntity, title: title, clear: isatty(1) == 1))
        }
        let problem = Self.problem(outcome, server: connectToken.serverAddresses[0], withControlPort: joined != nil)
        let exit = problem.map { failure("play", $0) }
        print(outcome.summary)
        if let exit { throw exit }
    }

    /// How a game ended: the `play:` summary line (state last), and what the final screen needs.
    struct Outcome {
        /// The summary line's fields before `state=`.
        var fields: String
        /// `match_over`, `quit`, `closed_by_server` (reported as `disconnected`) or the client's state.
        var state: String
        var everConnected: Bool
        var seconds: Double
        var lastFrame: [ArenaEntity]
        var yourEntity: EntityID?

        var summary: String { "\(fields) state=\(state == "closed_by_server" ? String(describing: ClientState.disconnected) : state)" }
    }

    /// What went wrong, in words, or nil for a normal end: the match is over, the time given by
    /// --seconds is up, or the player quit.
    static func problem(_ outcome: Outcome, server: NetAddress, withControlPort: Bool) -> String? {
        let after = String(format: "%.2f", outcome.seconds)
        switch outcome.state {
        case "match_over", "quit", String(describing: ClientState.connected): return nil
        case "closed_by_server":
            return withControlPort
                ? "the server at \(server) closed the connection after \(after) s, and the match is still running (kicked, or the server is stopping)"
                : "the server at \(server) closed the connection after \(after) s without saying the match was over (it stopped or kicked us, or its last message was lost)"
        case String(describing: ClientState.tokenExpired): return "the connect token expired before the server at \(server) answered (mint a new one)"
        case String(describing: ClientState.denied): return "the server at \(server) refused the connection (it is full)"
        case String(describing: ClientState.connectionTimedOut) where outcome.everConnected:
            return "the server at \(server) stopped answering after \(after) s"
        case String(describing: ClientState.requestTimedOut), String(describing: ClientState.responseTimedOut),
            String(describing: ClientState.connectionTimedOut), String(describing: ClientState.sendingRequest),
            String(describing: ClientState.sendingResponse):
            return "no answer from the server at \(server) (is it running, and was the token made with its key and protocol id?)"
        default: return "the game ended in state \(outcome.state)"
        }
    }

    func runGame(token: ConnectToken, settings: MatchSettings, terminal: RawTerminal?) throws -> Outcome {
        let client = try GameClient(settings: settings)
        client.connect(token: token)
        let clock = SystemClock()
        let start = clock.monotonicSeconds()
        let tickSeconds = 1 / Double(settings.tickRate)
        var nextTick = start
        var nextFrame = start
        var controls = Controls()
        var everConnected = false
        var connectedAt = start
        var ticks = 0
        var askedToWatch = false
        func end(_ state: String) -> Outcome {
            let seconds = everConnected ? clock.monotonicSeconds() - connectedAt : 0
            return Outcome(
                fields: finish(client, ticks, everConnected), state: state, everConnected: everConnected, seconds: seconds,
                lastFrame: client.frame().latest, yourEntity: client.simulation.yourEntity)
        }
        while true {
            let now = clock.monotonicSeconds()
            if let seconds, now - start >= seconds { break }
            if client.state.rawValue < 0 { break }
            if everConnected && client.state == .disconnected {
                // The server's last message of a match names its final standings.
                return end(client.finalStandings != nil ? "match_over" : "closed_by_server")
            }
            if let terminal {
                for key in terminal.readKeys() { if !controls.press(key, at: now) { return end("quit") } }
            }
            nextTick += tickSeconds
            if client.state == .connected {
                if !everConnected { connectedAt = now }
                everConnected = true
                if watch && !askedToWatch {
                    client.spectate()
                    askedToWatch = true
                }
            }
            let frame = client.frame()
            let input = bot ? ArenaBot.input(frame: frame, tick: ticks, bot: 0) : controls.input(at: now)
            client.tick(input: input, until: nextTick)
            ticks += 1
            if now >= nextFrame {
                nextFrame = now + 0.05
                if terminal != nil || !bot {
                    Renderer.draw(frame: client.frame(), client: client, settings: settings, watching: watch)
                }
            }
        }
        return end(String(describing: client.state))
    }

    func finish(_ client: GameClient<ArenaRules>, _ ticks: Int, _ everConnected: Bool) -> String {
        let simulation = client.simulation
        let corrections = simulation.corrections
        let meanCorrection = corrections.isEmpty ? 0 : corrections.reduce(0, +) / Double(corrections.count)
        client.disconnect()
        return Self.summaryLine(
            connected: everConnected, ticks: ticks, snapshots: simulation.snapshotsReceived, rttMs: client.roundTripTime * 1000,
            loss: client.packetLoss, corrections: corrections.count, meanCorrection: meanCorrection,
            interpolationDelayTicks: simulation.interpolationDelayTicks)
    }

    /// The `play:` summary line up to its last field, `state=`; tools read the fields, so they
    /// keep their names and order.
    static func summaryLine(
        connected: Bool = false, ticks: Int = 0, snapshots: UInt64 = 0, rttMs: Double = 0, loss: Double = 0, corrections: Int = 0,
        meanCorrection: Double = 0, interpolationDelayTicks: Double = 0
    ) -> String {
        String(
            format: "play: connected=%d ticks=%d snapshots=%llu rtt_ms=%.1f loss=%.3f corrections=%d mean_correction=%.3f interpolation_delay_ticks=%.1f",
            connected ? 1 : 0, ticks, snapshots, rttMs, loss, corrections, meanCorrection, interpolationDelayTicks)
    }
}

/// Keyboard state: terminals send key repeats, not releases, so a movement key counts as held for
/// a short while after each press.
struct Controls {
    var held: [Character: Double] = [:]
    var aim: UInt16 = 0
    var fire: UInt8 = 0
    static let holdSeconds = 0.2

    /// Returns false on quit.
    mutating func press(_ key: UInt8, at now: Double) -> Bool {
        switch key {
        case UInt8(ascii: "q"), UInt8(ascii: "Q"), 3: return false
        case UInt8(ascii: "w"), UInt8(ascii: "a"), UInt8(ascii: "s"), UInt8(ascii: "d"): held[Character(UnicodeScalar(key))] = now
        case UInt8(ascii: "j"): aim = aim &- 2048
        case UInt8(ascii: "l"): aim = aim &+ 2048
        case UInt8(ascii: " "): fire |= ArenaRules.Input.fireHitscan
        case UInt8(ascii: "f"): fire |= ArenaRules.Input.fireProjectile
        default: break
        }
        return true
    }

    mutating func input(at now: Double) -> ArenaRules.Input {
        func down(_ key: Character) -> Bool { (held[key].map { now - $0 < Self.holdSeconds }) ?? false }
        let x: Int8 = down("d") ? 127 : (down("a") ? -127 : 0)
        let y: Int8 = down("s") ? 127 : (down("w") ? -127 : 0)
        defer { fire = 0 }
        return ArenaRules.Input(moveX: x, moveY: y, aim: aim, buttons: fire)
    }
}

/// Puts the terminal in raw mode (no echo, no line buffering) and restores it.
final class RawTerminal {
    private var original = termios()
    private var active = false

    init() {
        guard tcgetattr(0, &original) == 0 else { return }
        var raw = original
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG)
        raw.c_cc.6 = 0  // VMIN
        raw.c_cc.5 = 0  // VTIME
        active = tcsetattr(0, TCSANOW, &raw) == 0
        print("\u{1B}[?25l\u{1B}[2J", terminator: "")
    }

    func readKeys() -> [UInt8] {
        var keys: [UInt8] = []
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        while poll(&descriptor, 1, 0) > 0 {
            var byte: UInt8 = 0
            guard read(0, &byte, 1) == 1 else { break }
            keys.append(byte)
        }
        return keys
    }

    func restore() {
        guard active else { return }
        active = false
        tcsetattr(0, TCSANOW, &original)
        print("\u{1B}[?25h", terminator: "")
    }

    deinit { restore() }
}

/// Text rendering of the arena: 2 columns per unit, 1 row per unit.
enum Renderer {
    static func draw(frame: ClientSimulation<ArenaRules>.Frame, client: GameClient<ArenaRules>, settings: MatchSettings, watching: Bool) {
        let map = ArenaMap.named(settings.map)
        let unit = Double(ArenaMap.unit)
        let columns = Int(map.width / ArenaMap.unit) * 2
        let rows = Int(map.height / ArenaMap.unit)
        var grid = [[Character]](repeating: [Character](repeating: " ", count: columns), count: rows)
        for row in 0..<rows {
            for column in 0..<columns {
                let x = Int32((Double(column) / 2 + 0.25) * unit)
                let y = Int32((Double(row) + 0.5) * unit)
                if map.walls.contains(where: { x >= $0.minX && x < $0.maxX && y >= $0.minY && y < $0.maxY }) { grid[row][column] = "#" }
            }
        }
        func plot(_ entity: ArenaEntity, _ symbol: Character) {
            let column = Int(Double(entity.x) / unit * 2)
            let row = Int(Double(entity.y) / unit)
            guard rows > row, row >= 0, columns > column, column >= 0 else { return }
            grid[row][column] = symbol
        }
        for entity in frame.remote {
            switch entity.kind {
            case .projectile: plot(entity, "*")
            case .player: plot(entity, entity.flags & 1 == 1 ? letter(entity.id) : "x")
            }
        }
        if let me = frame.local {
            let (dx, dy) = ArenaRules.direction(me.aim)
            var sight = me
            sight.x += Int32(dx * unit * 1.5)
            sight.y += Int32(dy * unit * 1.5)
            plot(sight, "+")
            plot(me, me.flags & 1 == 1 ? "@" : "x")
        }
        var out = "\u{1B}[H"
        for row in grid { out += String(row) + "\u{1B}[K\n" }
        let simulation = client.simulation
        out += String(
            format: "%@ tick %.0f  rtt %.0f ms  loss %.1f%%  correction %.2f u  interp %.1f ticks  snapshots %llu\u{1B}[K\n",
            watching ? "watching" : "playing", frame.renderTick, client.roundTripTime * 1000, client.packetLoss * 100, simulation.lastCorrection,
            simulation.interpolationDelayTicks, simulation.snapshotsReceived)
        let you = simulation.yourEntity
        let board = frame.latest.filter { $0.kind == .player }.sorted { $0.score > $1.score }.prefix(8)
        out += "scores (points/kills-deaths): " + board.map {
            "\(letter($0.id)) \($0.score)/\($0.kills)-\($0.deaths)\($0.id == you ? " (you)" : "")"
        }.joined(separator: "  ") + "\u{1B}[K\n"
        let me = watching ? "" : "@ you\(you.map { " (\(letter($0)) on the scores)" } ?? "")  + your aim  "
        out += "\(me)A-Z other players  x down  * projectile  # wall\u{1B}[K\n"
        out += (frame.local.map { "health \($0.health)  " } ?? "") + "WASD move  J/L aim  Space hitscan  F projectile  Q quit\u{1B}[K\n"
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    /// A player's letter on the map and the scores.
    static func letter(_ id: EntityID) -> Character { Character(UnicodeScalar(UInt8(65 + Int(id % 26)))) }

    /// The final screen: every player of the last snapshot in standings order (points, then
    /// kills, then fewer deaths), you marked.
    static func standings(_ entities: [ArenaEntity], you: EntityID?, title: String, clear: Bool) -> String {
        let players = entities.filter { $0.kind == .player }.sorted {
            ($0.score, $0.kills, -Int($0.deaths), -Int($0.id)) > ($1.score, $1.kills, -Int($1.deaths), -Int($1.id))
        }
        var out = clear ? "\u{1B}[2J\u{1B}[H" : ""
        out += "\(title)\n"
        if players.isEmpty { out += "  (no players in the last snapshot)\n" }
        for (index, player) in players.enumerated() {
            out += String(format: "%3d. %@  %5d points  %4d kills  %4d deaths", index + 1, String(letter(player.id)), Int(player.score), Int(player.kills), Int(player.deaths))
            out += player.id == you ? "  <- you\n" : "\n"
        }
        return String(out.dropLast())
    }
}

/// Logs in and joins a game through the control port.
enum ControlPortSession {
    struct Joined {
        var token: ConnectToken
        var settings: MatchSettings
        var control: String
        var session: String
        var game: Int
        var matchID: UInt64?
    }

    /// A control port that could not be reached or refused; `message` is the line to print.
    struct Problem: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Who plays: an account with a password, or a device account made for this run alone (a
    /// fresh random device id: a bot, or a guest, needs no account of its own).
    enum Account {
        case password(username: String, password: String)
        case newDevice
    }

    /// Logs in and joins the game, or (`watching`) takes a spectator's token for its running match.
    static func join(control: String, as account: Account, game: Int, watching: Bool = false) async throws(Problem) -> Joined {
        let login: [String: Any]
        switch account {
        case .password(let username, let password):
            login = try await request(control, "/v1/sessions", method: "POST", token: nil, body: ["username": username, "password": password], doing: "log in")
        case .newDevice:
            var random = SystemRandomSource()
            var bytes = [UInt8](repeating: 0, count: 16)
            bytes.withUnsafeMutableBytes { random.fill($0) }
            let deviceID = "arbiter-play-" + bytes.map { String(format: "%02x", $0) }.joined()
            login = try await request(control, "/v1/accounts/device", method: "POST", token: nil, body: ["device_id": deviceID], doing: "make a device account")
        }
        guard let session = login["token"] as? String else { throw Problem(message: "the control port at \(control) answered the login without a session token") }
        let gameInfo = try await request(control, "/v1/games/\(game)", method: "GET", token: session, body: nil, doing: "read game \(game)")
        let fields = gameInfo["settings"] as? [String: Any] ?? [:]
        var settings = MatchSettings()
        settings.tickRate = fields["tick_rate"] as? Int ?? settings.tickRate
        settings.map = fields["map"] as? String ?? settings.map
        settings.scoreLimit = fields["score_limit"] as? Int ?? settings.scoreLimit
        settings.timeLimitSeconds = fields["time_limit_seconds"] as? Int ?? settings.timeLimitSeconds
        let route = watching ? "watch" : "join"
        let joined = try await request(control, "/v1/games/\(game)/\(route)", method: "POST", token: session, body: [:], doing: "\(route) game \(game)")
        guard let encoded = joined["connect_token"] as? String, let bytes = Data(base64Encoded: encoded),
            let token = try? ConnectToken(decoding: Array(bytes))
        else { throw Problem(message: "the control port at \(control) answered the join without a usable connect token") }
        return Joined(
            token: token, settings: settings, control: control, session: session, game: game,
            matchID: (joined["match_id"] as? NSNumber)?.uint64Value)
    }

    /// Whether the match joined is over: the game's scoreboard shows no running match, or
    /// another one. False when the control port cannot tell.
    static func matchEnded(_ joined: Joined) async -> Bool {
        guard let board = try? await request(joined.control, "/v1/games/\(joined.game)/scoreboard", method: "GET", token: joined.session, body: nil, doing: "")
        else { return false }
        guard let running = board["running"] as? Bool else { return false }
        return !running || (board["match_id"] as? NSNumber)?.uint64Value != joined.matchID
    }

    /// One JSON call; a refusal or an unreachable port becomes a ``Problem`` naming what failed.
    static func request(
        _ control: String, _ path: String, method: String, token: String?, body: [String: Any]?, doing what: String
    ) async throws(Problem) -> [String: Any] {
        guard let address = URL(string: control + path), address.scheme == "http" || address.scheme == "https", address.host != nil else {
            throw Problem(message: "--control must be a URL like http://127.0.0.1:8080; got '\(control)'")
        }
        var request = URLRequest(url: address)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = try? JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw Problem(message: "cannot reach the control port at \(control) (\(connectionFailure(error)))")
        }
        let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            let error = json["error"] as? [String: Any]
            let reason = (error?["message"] as? String).map { "\($0) (\(error?["code"] as? String ?? "HTTP \(status)"))" } ?? "HTTP \(status)"
            throw Problem(message: "could not \(what): \(reason)")
        }
        return json
    }
}
