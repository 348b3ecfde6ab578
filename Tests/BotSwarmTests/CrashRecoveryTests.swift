import MatchContract
import ArbiterClient
@testable import BotSwarm
import Foundation
import GRDB
import GameCore
import GameRuntime
import NetProtocol
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` of a real `arbiter serve` in the middle of a match, after another match's results
/// were recorded; restarted on the same data directory: the recorded results are intact, the
/// database passes `PRAGMA integrity_check`, the interrupted session is closed as abandoned, and
/// the interrupted game plays again with a fresh join. Bounded by loop counts and the
/// process's own time limit.
@Suite(.serialized) struct CrashRecoveryTests {
    struct Server {
        let process: ArbiterProcess
        let control: ControlPort
    }

    func start(_ data: String) async throws -> Server {
        let process = try ArbiterProcess.launch([
            "serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", data, "--password-cost", "minimum", "--seconds", "110",
        ])
        let ready = try #require(await process.line { $0.hasPrefix("serve: ready") })
        let control = try #require(ready.split(separator: " ").first { $0.hasPrefix("http=") }.map { String($0.dropFirst(5)) })
        return Server(process: process, control: ControlPort(base: control))
    }

    func register(_ name: String, on control: ControlPort) async throws -> (token: String, id: Int) {
        let body = try await control.expect(
            "POST", "/v1/accounts", body: ["username": name, "email": "\(name)@example.com", "password": "correct horse \(name)"])
        let player = try #require(body["player"] as? [String: Any])
        return (try #require(body["token"] as? String), try #require(player["id"] as? Int))
    }

    /// Joins `game` and plays until connected (or, with `untilDisconnected`, until the server
    /// ends the match); returns the client and the match id.
    func play(_ game: Int, token: String, on control: ControlPort, ticks: Int, untilDisconnected: Bool = false) async throws -> (GameClient<ArenaRules>, UInt64) {
        let joined = try await control.expect("POST", "/v1/games/\(game)/join", token: token)
        let encoded = try #require((joined["connect_token"] as? String).flatMap { Data(base64Encoded: $0) })
        let client = try GameClient(settings: MatchSettings(tickRate: 60))
        client.connect(token: try ConnectToken(decoding: Array(encoded)))
        let clock = SystemClock()
        var connected = false
        for _ in 0..<ticks {
            client.tick(input: ArenaRules.Input(moveX: 60), until: clock.monotonicSeconds() + 1.0 / 60)
            if client.state == .connected { connected = true }
            if connected && !untilDisconnected && client.simulation.snapshotsReceived > 30 { break }
            if connected && untilDisconnected && client.state != .connected { break }
        }
        #expect(connected, "the game server admitted the token the join route handed out")
        return (client, UInt64(try #require(joined["match_id"] as? Int)))
    }

    @Test func afterKillNineEveryGameIsPlayableAndNoResultIsLost() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        var server = try await start(data)
        let ann = try await register("ann", on: server.control)
        let ben = try await register("ben", on: server.control)

        // A short match runs to its time limit: its results are committed before the crash.
        let short = try await server.control.expect(
            "POST", "/v1/games", token: ann.token, body: ["name": "short", "settings": ["time_limit_seconds": 10]])
        let shortID = try #require(short["id"] as? Int)
        let (finished, _) = try await play(shortID, token: ann.token, on: server.control, ticks: 60 * 14, untilDisconnected: true)
        #expect(finished.state != .connected, "the match ended at its time limit")
        var recorded = false
        for _ in 0..<100 where !recorded {
            let stats = try await server.control.expect("GET", "/v1/players/\(ann.id)/statistics", token: ann.token)
            recorded = stats["games_played"] as? Int == 1
            if !recorded { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recorded)

        // A long match is in progress when the process dies.
        let long = try await server.control.expect("POST", "/v1/games", token: ben.token, body: ["name": "long"])
        let longID = try #require(long["id"] as? Int)
        let (interrupted, firstMatch) = try await play(longID, token: ben.token, on: server.control, ticks: 300)
        kill(server.process.pid, SIGKILL)
        server.process.terminate()
        interrupted.disconnect()

        // The database survived the crash whole.
        let path = data + "/arbiter.sqlite"
        let check = try await DatabaseQueue(path: path).read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(check == "ok")

        server = try await start(data)
        defer { server.process.terminate() }
        let stats = try await server.control.expect("GET", "/v1/players/\(ann.id)/statistics", token: ann.token)
        #expect(stats["games_played"] as? Int == 1, "results committed before the crash are intact")
        let (replayed, secondMatch) = try await play(longID, token: ben.token, on: server.control, ticks: 300)
        #expect(secondMatch != firstMatch, "a fresh match, not the one that died")
        #expect(replayed.simulation.snapshotsReceived > 30)
        // A graceful stop (SIGTERM) with the match still running records it as abandoned, with
        // the time played so far.
        server.process.terminate()
        replayed.disconnect()

        let statuses = try await DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT match_id, status FROM game_sessions ORDER BY id").map { row -> (UInt64, String) in
                (UInt64(bitPattern: row["match_id"] as Int64), row["status"])
            }
        }
        #expect(statuses.first { $0.0 == firstMatch }?.1 == "abandoned")
        #expect(statuses.first { $0.0 == secondMatch }?.1 == "abandoned", "\(statuses)")
        let played = try await DatabaseQueue(path: path).read { db in
            try Double.fetchOne(
                db,
                sql: "SELECT p.time_played_seconds FROM player_game_sessions p JOIN game_sessions s ON s.id = p.game_session_id WHERE s.match_id = ?",
                arguments: [Int64(bitPattern: secondMatch)])
        }
        #expect((played ?? 0) > 0, "time played so far is kept")
        let benStats = try await DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "SELECT games_played FROM player_statistics WHERE player_id = ?", arguments: [ben.id])
        }
        #expect(benStats == 0, "an abandoned match counts for no one")
        // Every data file is owner-only.
        for file in ["arbiter.sqlite", "transport.key", "email.key"] {
            var info = stat()
            #expect(stat(data + "/" + file, &info) == 0 && info.st_mode & 0o077 == 0, "\(file) is owner-only")
        }
    }
}
