import ArbiterClient
import Foundation
import GameCore
import GameRuntime
import MatchContract
import NetProtocol
import Testing

/// A game of a studio's own (``RaceRules``, one file) hosted by the very same server, client SDK
/// and harness as the arena: nothing outside its file names it.
@Suite struct HostedGameTests {
    static let settings = MatchSettings(mode: "race", maxPlayers: 4, tickRate: 60, scoreLimit: 1, timeLimitSeconds: 600, map: "track")

    @Test func aStudioGameRunsToItsResultsInVirtualTime() throws {
        var coin = SeededRandomSource(seed: 3)
        let harness = SimHarness(rules: RaceRules(), settings: Self.settings, conditions: LinkConditions(latency: 0.02, loss: 0.05), seed: 9) { player, _ in
            RaceRules.Input(running: player == 2 || (player == 1 && Int.random(in: 0..<2, using: &coin) == 0))
        }
        try harness.addClient(1, name: "sometimes")
        try harness.addClient(2, name: "always")
        #expect(harness.run(forAtMost: 10) { !harness.registry.reports.isEmpty })
        let report = try #require(harness.registry.reports.first)
        #expect(report.lines.map(\.playerID) == [2, 1], "the runner who always ran won")
        #expect(report.lines.map(\.placement) == [1, 2])
        #expect(report.lines[0].score == 1)
        // The client predicted its runner with the game's own step: it ended where the server did.
        let always = try #require(harness.clients[2]).simulation
        #expect(always.snapshotsReceived > 50)
        #expect((always.predicted?.x ?? 0) >= RaceRules.stepsPerPoint - 10)
    }

    @Test func aStudioGameIsHostedOverUDPAndReportsItsResults() async throws {
        var random = SystemRandomSource()
        let key = SymmetricKey(random: &random)
        let bind = NetAddress(ipv4: 127, 0, 0, 1, port: 0)
        let server = try TransportServer(
            configuration: ServerConfiguration(protocolID: 0x6C, privateKey: key, serverAddresses: [bind]), bind: bind, updateInterval: 0.002)
        let address = server.socket.localAddress
        let clock = SystemClock()
        let directory = MatchDirectory(order: RaceRules.standingsOrder)
        let matchID = directory.create(settings: Self.settings, now: clock.monotonicSeconds())
        let handler = GameServerHandler(rules: RaceRules(), directory: directory, logger: .init(label: "test"), clock: clock)
        let running = GameServerThread(server, handler)
        let clients = try (1...2).map { id -> GameClient<RaceRules> in
            let client = try GameClient(rules: RaceRules(), settings: Self.settings)
            client.connect(token: try ConnectToken.generate(
                publicAddresses: [address], expireSeconds: 60, timeoutSeconds: 5, clientID: UInt64(id), protocolID: 0x6C, privateKey: key,
                userData: MatchTicket(matchID: matchID, playerID: UInt64(id), displayName: "runner\(id)").encoded(),
                nowUnix: clock.unixSeconds(), random: &random))
            return client
        }
        var everConnected = Set<Int>()
        // About 100 ticks of running end the race; bounded at 10 s of ticks.
        for _ in 0..<600 {
            let deadline = clock.monotonicSeconds() + 1.0 / 60
            for (index, client) in clients.enumerated() {
                client.tick(input: RaceRules.Input(running: index == 0), until: deadline)
                if client.state == .connected { everConnected.insert(index) }
            }
            if everConnected.count == 2 && clients.allSatisfy({ $0.state != .connected }) { break }
        }
        running.stop()
        #expect(everConnected.count == 2)
        #expect(clients.allSatisfy { $0.state != .connected }, "the server ended the race and disconnected everyone")
        var reports: [MatchReport] = []
        for await report in directory.reports { reports.append(report) }
        let report = try #require(reports.first)
        #expect(reports.count == 1)
        #expect(report.matchID == matchID && !report.abandoned)
        #expect(report.lines.map(\.playerID) == [1, 2])
        #expect(report.lines.first?.score == 1)
    }

    /// The server, the client SDK and the harness all speak ``MatchChannel``'s configuration.
    @Test func serverClientAndHarnessUseOneChannelConfiguration() throws {
        let expected = MatchChannel.connectionConfiguration()
        let client = try GameClient(rules: RaceRules(), settings: Self.settings)
        #expect(client.channels.configuration == expected)
        let limits = GameServerLimits()
        let handler = GameServerHandler(rules: RaceRules(), directory: MatchDirectory(), logger: .init(label: "test"), configuration: .init(limits: limits))
        var server = handler.server.connectionConfiguration
        #expect(server.memoryBudgetBytes == limits.connectionBudgetBytes)
        server.memoryBudgetBytes = expected.memoryBudgetBytes
        server.overBudgetGraceSeconds = expected.overBudgetGraceSeconds
        #expect(server == expected, "the server differs only in its budget")
        let harness = SimHarness(rules: RaceRules(), settings: Self.settings) { _, _ in RaceRules.Input(running: true) }
        try harness.addClient(1, name: "a")
        #expect(harness.clients[1]?.session.channels.configuration == expected)
        #expect(harness.server.connectionConfiguration == handler.server.connectionConfiguration)
    }
}
