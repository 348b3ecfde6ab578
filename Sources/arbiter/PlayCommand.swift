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
            F fires a projectile, Q quits. Get in with a token file (--token) or through the control \
            port (--control URL --username U --password P --game ID). --watch only spectates; --bot \
            plays by itself (for demos and tests). Ends with a `play:` summary line.
            """
    )

    @Option(help: "A connect token file (from `arbiter token`: joins the default arena).")
    var token: String?

    @Option(help: "The control port, e.g. http://127.0.0.1:8080 (with --username, --password, --game).")
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
        guard (token == nil) != (control == nil) else { throw ValidationError("give either --token or --control with --username, --password and --game") }
        if control != nil, username == nil || password == nil || game == nil {
            throw ValidationError("--control needs --username, --password and --game")
        }
        guard (10...240).contains(tickRate) else { throw ValidationError("--tick-rate must be 10...240") }
    }

    func run() async throws {
        let connectToken: ConnectToken
        var settings = MatchSettings(tickRate: tickRate, map: map)
        if let token {
            guard let data = FileManager.default.contents(atPath: token) else { throw ValidationError("cannot read \(token)") }
            connectToken = try ConnectToken(decoding: Array(data))
        } else {
            let joined = try await ControlPortSession.join(control: control ?? "", username: username ?? "", password: password ?? "", game: game ?? 0)
            connectToken = joined.token
            settings.tickRate = joined.tickRate
            settings.map = joined.map
        }
        let interactive = isatty(0) == 1 && !bot && !watch
        let terminal = interactive ? RawTerminal() : nil
        defer { terminal?.restore() }
        let summary = try runGame(token: connectToken, settings: settings, terminal: terminal)
        terminal?.restore()
        print(summary)
    }

    func runGame(token: ConnectToken, settings: MatchSettings, terminal: RawTerminal?) throws -> String {
        let client = try GameClient(settings: settings)
        client.connect(token: token)
        let clock = SystemClock()
        let start = clock.monotonicSeconds()
        let tickSeconds = 1 / Double(settings.tickRate)
        var nextTick = start
        var nextFrame = start
        var controls = Controls()
        var everConnected = false
        var ticks = 0
        var askedToWatch = false
        while true {
            let now = clock.monotonicSeconds()
            if let seconds, now - start >= seconds { break }
            if client.state.rawValue < 0 || (everConnected && client.state == .disconnected) { break }
            if let terminal {
                for key in terminal.readKeys() { if !controls.press(key, at: now) { return finish(client, ticks, everConnected, "quit") } }
            }
            nextTick += tickSeconds
            if client.state == .connected {
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
        return finish(client, ticks, everConnected, String(describing: client.state))
    }

    func finish(_ client: GameClient<ArenaRules>, _ ticks: Int, _ everConnected: Bool, _ state: String) -> String {
        let simulation = client.simulation
        let corrections = simulation.corrections
        let meanCorrection = corrections.isEmpty ? 0 : corrections.reduce(0, +) / Double(corrections.count)
        client.disconnect()
        return String(
            format: "play: connected=%d ticks=%d snapshots=%llu rtt_ms=%.1f loss=%.3f corrections=%d mean_correction=%.3f interpolation_delay_ticks=%.1f state=%@",
            everConnected ? 1 : 0, ticks, simulation.snapshotsReceived, client.roundTripTime * 1000, client.packetLoss, corrections.count,
            meanCorrection, simulation.interpolationDelayTicks, state)
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
            case .player: plot(entity, entity.flags & 1 == 1 ? Character(UnicodeScalar(UInt8(65 + Int(entity.id % 26)))) : "x")
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
        let board = frame.latest.filter { $0.kind == .player }.sorted { $0.score > $1.score }.prefix(8)
        out += board.map { "\(Character(UnicodeScalar(UInt8(65 + Int($0.id % 26))))):\($0.score)/\($0.kills)-\($0.deaths)" }.joined(separator: "  ") + "\u{1B}[K\n"
        out += (frame.local.map { "health \($0.health)  " } ?? "") + "WASD move  J/L aim  Space hitscan  F projectile  Q quit\u{1B}[K\n"
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}

/// Logs in and joins a game through the control port.
enum ControlPortSession {
    struct Joined {
        var token: ConnectToken
        var tickRate: Int
        var map: String
    }

    static func join(control: String, username: String, password: String, game: Int) async throws -> Joined {
        let login = try await request(control + "/v1/sessions", method: "POST", token: nil, body: ["username": username, "password": password])
        guard let session = login["token"] as? String else { throw ValidationError("login failed: \(login)") }
        let gameInfo = try await request(control + "/v1/games/\(game)", method: "GET", token: session, body: nil)
        let tickRate = (gameInfo["settings"] as? [String: Any])?["tick_rate"] as? Int ?? 60
        let map = (gameInfo["settings"] as? [String: Any])?["map"] as? String ?? "default"
        let joined = try await request(control + "/v1/games/\(game)/join", method: "POST", token: session, body: [:])
        guard let encoded = joined["connect_token"] as? String, let bytes = Data(base64Encoded: encoded) else {
            throw ValidationError("join failed: \(joined)")
        }
        return Joined(token: try ConnectToken(decoding: Array(bytes)), tickRate: tickRate, map: map)
    }

    static func request(_ url: String, method: String, token: String?, body: [String: Any]?) async throws -> [String: Any] {
        guard let address = URL(string: url) else { throw ValidationError("bad URL \(url)") }
        var request = URLRequest(url: address)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, _) = try await URLSession.shared.data(for: request)
        return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }
}
