import ArbiterServe
import Foundation
import GameRuntime
import NetProtocol
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Every command that cannot do its job exits non-zero with one line that says why in the
/// user's terms: the executables run as a user runs them, on loopback with port 0.
@Suite(.serialized) struct CommandErrorTests {
    /// Runs `arbiter` (or `botswarm`) from the build folder to its end: combined output, status.
    func run(_ arguments: [String], executable: String = "arbiter") throws -> (output: String, status: Int32) {
        let url = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(executable)
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: data, as: UTF8.self), process.terminationStatus)
    }

    func temporaryFolder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A TCP socket on 127.0.0.1 with a port of its own, listening or not (a bound socket that
    /// does not listen refuses connections: a port where nothing answers, held for the test).
    func tcpSocket(listening: Bool) throws -> (descriptor: Int32, port: UInt16) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(descriptor, raw, length) == 0 && getsockname(descriptor, raw, &length) == 0
            }
        }
        try #require(bound)
        if listening { try #require(listen(descriptor, 4) == 0) }
        return (descriptor, UInt16(bigEndian: address.sin_port))
    }

    /// A token that expired long ago: minted with the token API as of a fixed past time.
    func expiredToken(in folder: String) throws -> String {
        var random = SystemRandomSource()
        let token = try ConnectToken.generate(
            publicAddresses: [NetAddress(ipv4: 127, 0, 0, 1, port: 9)], expireSeconds: 30, timeoutSeconds: 5, clientID: 1, protocolID: 1,
            privateKey: SymmetricKey(random: &random), nowUnix: 1_000_000, random: &random)
        let path = folder + "/expired.bin"
        try Data(token.encoded()).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func botswarmAgainstNoControlPortFailsAtOnceNamingTheURL() throws {
        let (descriptor, port) = try tcpSocket(listening: false)
        defer { close(descriptor) }
        let result = try run(["--control", "http://127.0.0.1:\(port)", "--bots", "4", "--duration", "1", "--ramp", "0"], executable: "botswarm")
        #expect(result.status == 1)
        #expect(result.output.contains("botswarm: cannot reach the control port at http://127.0.0.1:\(port) (connection refused)\n"), "\(result.output)")
        // No progress bars, no table of zeros.
        #expect(!result.output.contains("4/4") && !result.output.contains("bots connected"), "\(result.output)")
    }

    @Test func anExpiredTokenIsNamedBeforeConnecting() throws {
        let folder = try temporaryFolder("expired")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let token = try expiredToken(in: folder)
        let connect = try run(["connect", "--token", token, "--seconds", "5"])
        #expect(connect.status == 1)
        #expect(connect.output.contains("connect: the connect token in expired.bin expired "), "\(connect.output)")
        #expect(connect.output.contains(" ago (tokens last `arbiter token --expire-seconds`"))
        #expect(connect.output.hasSuffix("connected=0 sent=0 received=0 state=token_expired\n"), "\(connect.output)")

        let play = try run(["play", "--token", token, "--bot", "--seconds", "5"])
        #expect(play.status == 1)
        #expect(play.output.contains("play: the connect token in expired.bin expired "), "\(play.output)")
        #expect(play.output.hasPrefix("play: the connect token"), "nothing drawn first: \(play.output)")
        #expect(play.output.hasSuffix(" state=token_expired\n"), "\(play.output)")
        #expect(play.output.contains("play: connected=0 ticks=0 snapshots=0 "))
    }

    @Test func aFileThatIsNotATokenIsSaidToBeNone() throws {
        let folder = try temporaryFolder("malformed")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/token.bin"
        try Data(repeating: 7, count: 31431).write(to: URL(fileURLWithPath: path))
        for command in ["connect", "play"] {
            let result = try run([command, "--token", path, "--seconds", "1"])
            #expect(result.status == 1)
            #expect(result.output.contains("\(command): token.bin is not a connect token (31431 bytes; a connect token is 2048 bytes)\n"), "\(result.output)")
            #expect(result.output.hasSuffix("state=invalid_token\n"))
        }
    }

    /// Every setting the configuration knows is a flag of the executable: `--help` lists it,
    /// and a bad value is refused in one line before anything starts.
    @Test func serveTakesEverySettingAsAFlag() throws {
        let help = try run(["serve", "--help"])
        #expect(help.status == 0)
        let missing = ServeSetting.allCases.filter { !help.output.contains($0.flag) }.map(\.flag)
        #expect(missing == [], "arbiter serve --help lacks these")
        let badURL = try run(["serve", "--play-url", "http://example.com/v1/play", "--seconds", "1"])
        #expect(badURL.status == 64)
        #expect(badURL.output.contains("--play-url must be a path (/instances/2/v1/play) or a ws:// or wss:// URL"), "\(badURL.output)")
        #expect(!badURL.output.contains("serve: ready"))
    }

    @Test func aPortInUseIsNamedWithItsAddress() throws {
        let folder = try temporaryFolder("in-use")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (descriptor, port) = try tcpSocket(listening: true)
        defer { close(descriptor) }
        let http = try run([
            "serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:\(port)", "--data-dir", folder + "/a", "--password-cost", "minimum", "--seconds", "30",
        ])
        #expect(http.status == 1)
        #expect(http.output == "serve: cannot listen on 127.0.0.1:\(port) (HTTP): address already in use\n", "\(http.output)")

        let udp = try UDPSocket(bind: NetAddress(ipv4: 127, 0, 0, 1, port: 0))
        let taken = udp.localAddress
        let game = try run([
            "serve", "--udp", "\(taken)", "--http", "127.0.0.1:0", "--data-dir", folder + "/b", "--password-cost", "minimum", "--seconds", "30",
        ])
        #expect(game.status == 1)
        #expect(game.output.contains("serve: cannot listen on \(taken) (UDP): address already in use\n"), "\(game.output)")
        #expect(!game.output.contains("errno") && !game.output.contains("serve: ready"))
        withExtendedLifetime(udp) {}
    }

    @Test func aBadKeyNamesTheCharacterAndTheSubcommandsUsage() throws {
        var hex = Array(repeating: Character("a"), count: 64)
        hex[16] = "g"
        let arguments = ["--protocol-id", "1", "--client-id", "1", "--server", "127.0.0.1:1", "--out", "/dev/null"]
        let badCharacter = try run(["token", "--key-hex", String(hex)] + arguments)
        #expect(badCharacter.status == 64)
        #expect(badCharacter.output.contains("Error: --key-hex must be 64 hexadecimal digits (a 32-byte key); character 17 is 'g'\n"), "\(badCharacter.output)")
        #expect(badCharacter.output.contains("Usage: arbiter token "), "\(badCharacter.output)")
        #expect(badCharacter.output.contains("See 'arbiter token --help'"))
        #expect(!badCharacter.output.contains("arbiter <subcommand>"))

        let short = try run(["token", "--key-hex", "abc"] + arguments)
        #expect(short.output.contains("; got 3 digits\n"), "\(short.output)")
    }

    /// `arbiter serve` on port 0; its ready line's udp=, http= and protocol_id= fields.
    func serve(_ folder: String) async throws -> (server: ArbiterProcess, udp: String, http: String, protocolID: String) {
        let server = try ArbiterProcess.launch([
            "serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", folder, "--password-cost", "minimum", "--seconds", "60",
        ])
        let ready = try #require(await server.line { $0.hasPrefix("serve: ready") })
        func field(_ name: String) -> String? { ready.split(separator: " ").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) } }
        return (server, try #require(field("udp")), try #require(field("http")), try #require(field("protocol_id")))
    }

    @Test func aClientTheServerDisconnectsSaysSo() async throws {
        let folder = try temporaryFolder("closed")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (server, udp, _, protocolID) = try await serve(folder + "/data")
        defer { server.terminate() }
        let token = folder + "/token.bin"
        let minted = try run(["token", "--key-file", folder + "/data/transport.key", "--protocol-id", protocolID, "--client-id", "7", "--server", udp, "--out", token])
        #expect(minted.status == 0, "\(minted.output)")
        // A raw transport client on the game port breaks the match protocol: the server ends it.
        let result = try run(["connect", "--token", token, "--seconds", "10"])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.output.contains("connect: the server at \(udp) closed the connection after "), "\(result.output)")
        #expect(result.output.contains("use `arbiter play`"))
        #expect(result.output.hasSuffix("state=disconnected\n"))
    }

    @Test func aMatchThatEndsEndsPlayWithTheStandings() async throws {
        let folder = try temporaryFolder("match-over")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (server, _, http, _) = try await serve(folder + "/data")
        defer { server.terminate() }
        func post(_ path: String, token: String? = nil, _ body: [String: Any]) async throws -> [String: Any] {
            var request = URLRequest(url: try #require(URL(string: http + path)))
            request.httpMethod = "POST"
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            let (data, _) = try await URLSession.shared.data(for: request)
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        let account = try await post("/v1/accounts", ["username": "solo", "email": "solo@example.com", "password": "correct horse"])
        let session = try #require(account["token"] as? String)
        // The shortest match there is: 10 s.
        let game = try await post("/v1/games", token: session, ["name": "short", "settings": ["time_limit_seconds": 10, "max_players": 2]])
        let gameID = try #require(game["id"] as? Int)
        // A second player on the bare connect token of its join: the server's last message of
        // the match tells it the match is over (it has no control port to ask).
        let other = try await post("/v1/accounts", ["username": "duo", "email": "duo@example.com", "password": "correct horse"])
        let joined = try await post("/v1/games/\(gameID)/join", token: try #require(other["token"] as? String), [:])
        let tokenFile = folder + "/duo.bin"
        let encodedToken = try #require(joined["connect_token"] as? String)
        try #require(Data(base64Encoded: encodedToken)).write(to: URL(fileURLWithPath: tokenFile))
        let onToken = Process()
        onToken.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("arbiter")
        onToken.arguments = ["play", "--token", tokenFile, "--bot", "--seconds", "40"]
        let logFile = folder + "/duo.log"
        #expect(FileManager.default.createFile(atPath: logFile, contents: nil))
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        onToken.standardOutput = log
        onToken.standardError = log
        onToken.standardInput = FileHandle.nullDevice
        try onToken.run()
        let result = try run([
            "play", "--control", http, "--username", "solo", "--password", "correct horse", "--game", "\(gameID)", "--bot", "--seconds", "40",
        ])
        onToken.waitUntilExit()
        let tokenOutput = String(decoding: try Data(contentsOf: URL(fileURLWithPath: logFile)), as: UTF8.self)
        #expect(onToken.terminationStatus == 0, "\(tokenOutput.suffix(2000))")
        #expect(tokenOutput.contains("match over: final standings\n"))
        #expect(tokenOutput.hasSuffix(" state=match_over\n"), "\(tokenOutput.suffix(500))")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("match over: final standings\n"), "\(result.output)")
        #expect(result.output.contains("<- you"))
        let last = try #require(result.output.split(separator: "\n").last)
        #expect(last.hasPrefix("play: connected=1 ticks="))
        #expect(last.hasSuffix(" state=match_over"), "\(last)")
    }
}
