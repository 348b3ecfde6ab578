import Foundation
import GameCore
import MatchContract
import NetProtocol
import Testing

/// The production match server in virtual time (``SimHarness``): admission, spectating, match
/// end and results, with the real channel layer over a seeded link.
@Suite struct MatchServerTests {
    let rules = ArenaRules()

    static func idle(_ player: PlayerID, _ client: ClientSimulation<ArenaRules>) -> ArenaRules.Input { ArenaRules.Input() }

    /// Player 1 closes in on the other player (as its client sees it), aims and fires; the rest idle.
    static func shooter(_ harness: SimHarness<ArenaRules>) -> (PlayerID, ClientSimulation<ArenaRules>) -> ArenaRules.Input {
        { [unowned harness] player, client in
            let frame = client.frame(now: harness.time)
            guard player == 1, let me = frame.local, let target = frame.remote.first(where: { $0.kind == .player && $0.flags & 1 == 1 }) else {
                return ArenaRules.Input()
            }
            var input = ArenaRules.Input(aim: ArenaRules.aim(fromX: me.x, y: me.y, toX: target.x, y: target.y), buttons: ArenaRules.Input.fireHitscan)
            if abs(target.x - me.x) > 10 * ArenaMap.unit { input.moveX = target.x > me.x ? 127 : -127 }
            return input
        }
    }

    @Test func aTicketForAMatchThisServerDoesNotRunIsTurnedAway() throws {
        let harness = SimHarness(rules: rules, settings: MatchSettings(tickRate: 60), policy: Self.idle)
        let admitted = try harness.addClient(7, name: "stray", ticket: MatchTicket(matchID: harness.matchID ^ 1, playerID: 7, displayName: "stray"))
        #expect(!admitted)
        #expect(harness.events == [.turnedAway(clientID: 7, matchID: harness.matchID ^ 1, admission: .unknownMatch)])
        #expect(harness.server.playerCount == 0)
        #expect(harness.match == nil, "a refused client starts no match")
    }

    @Test func aFullMatchTurnsTheNextPlayerAwayAndAdmitsOnceASeatFrees() throws {
        let harness = SimHarness(rules: rules, settings: MatchSettings(maxPlayers: 2, tickRate: 60, map: "empty"), policy: Self.idle)
        #expect(try harness.addClient(1, name: "a"))
        #expect(try harness.addClient(2, name: "b"))
        #expect(!(try harness.addClient(3, name: "c")))
        #expect(harness.events.last == .turnedAway(clientID: 3, matchID: harness.matchID, admission: .full))
        harness.run(ticks: 30)
        harness.removeClient(1)
        #expect(harness.events.last == .left(matchID: harness.matchID, playerID: 1, reason: .disconnected(.peerDisconnected)))
        #expect(try harness.addClient(4, name: "d"))
        #expect(harness.match?.players == [2, 4])
    }

    @Test func aSpectatorLeavesTheWorldAndSeesAllOfIt() throws {
        let harness = SimHarness(rules: rules, settings: MatchSettings(tickRate: 60, map: "empty"), conditions: LinkConditions(latency: 0.02), seed: 4) { player, client in
            ArenaRules.Input(moveX: player == 1 ? 127 : 0)
        }
        try harness.addClient(1, name: "player")
        try harness.addClient(2, name: "watcher")
        harness.run(ticks: 20)
        let watcher = try #require(harness.clients[2]).session
        watcher.spectate()
        #expect(harness.run(forAtMost: 1) { harness.events.contains(.spectating(matchID: harness.matchID, playerID: 2)) })
        #expect(harness.match?.players == [1], "the spectator's player left the simulation")
        harness.run(ticks: 60)
        let frame = watcher.simulation.frame(now: harness.time)
        #expect(frame.local == nil, "a spectator has no entity of its own")
        #expect(frame.remote.contains { $0.kind == .player }, "and sees the players")
        #expect(watcher.simulation.snapshotsReceived > 40)
    }

    @Test func aSpectatorTicketWatchesAFullMatchWithoutASeatAndLeavesNoTrace() throws {
        let harness = SimHarness(rules: rules, settings: MatchSettings(maxPlayers: 2, tickRate: 60, map: "empty"), seed: 5) { player, _ in
            ArenaRules.Input(moveX: player == 1 ? 127 : 0)
        }
        #expect(try harness.addClient(1, name: "a"))
        #expect(try harness.addClient(2, name: "b"))
        let spectator = MatchTicket(matchID: harness.matchID, playerID: 1, displayName: "a", role: .spectator)
        // Seatless: the match is full, and the spectator is (as an account) one of its players.
        #expect(try harness.addClient(9, name: "watcher", ticket: spectator))
        #expect(harness.events.last == .spectating(matchID: harness.matchID, playerID: 1))
        #expect(harness.match?.players == [1, 2], "no entity of its own")
        harness.run(ticks: 60)
        let watcher = try #require(harness.clients[9]).session
        let frame = watcher.simulation.frame(now: harness.time)
        #expect(frame.local == nil)
        #expect(frame.remote.filter { $0.kind == .player }.count == 2, "the whole world in view")
        #expect(watcher.simulation.snapshotsReceived > 40)
        // Its going leaves the players' places as they were, and a player still cannot join.
        harness.removeClient(9)
        #expect(harness.match?.players == [1, 2])
        #expect(!(try harness.addClient(3, name: "c")))
        #expect(harness.events.last == .turnedAway(clientID: 3, matchID: harness.matchID, admission: .full))
    }

    @Test func spectatorsAreBoundedPerMatchAndLeaveNoLineInTheReport() {
        var book = MatchBook(maxSpectatorsPerMatch: 2)
        var random = SeededRandomSource(seed: 3)
        let id = book.create(settings: MatchSettings(maxPlayers: 2), now: 0, random: &random)
        let watcher = MatchTicket(matchID: id, playerID: 5, displayName: "w", role: .spectator)
        #expect(book.admit(watcher, now: 1) == .admitted(matchID: id))
        #expect(book.admit(watcher, now: 1) == .admitted(matchID: id))
        #expect(book.admit(watcher, now: 1) == .full)
        book.spectatorLeft(matchID: id)
        #expect(book.admit(watcher, now: 2) == .admitted(matchID: id))
        #expect(book.admit(MatchTicket(matchID: id, playerID: 1, displayName: "p"), now: 2) == .admitted(matchID: id))
        #expect(book.admit(MatchTicket(matchID: 0, playerID: 1, displayName: "p", role: .spectator), now: 2) == .defaultArena)
    }

    @Test func theTicketCarriesItsRoleAndOldTicketsArePlayers() throws {
        let watcher = MatchTicket(matchID: 9, playerID: 4, displayName: "Zoë", role: .spectator)
        #expect(MatchTicket(userData: watcher.encoded()) == watcher)
        var old = MatchTicket(matchID: 9, playerID: 4, displayName: "Zoë").encoded()
        #expect(MatchTicket(userData: old)?.role == .player)
        // An unknown role is not a ticket.
        old[4 + 8 + 8 + 1 + "Zoë".utf8.count] = 7
        #expect(MatchTicket(userData: old) == nil)
    }

    @Test func theScoreLimitEndsTheMatchWithResultsInPlacementOrder() throws {
        // Two players face each other across the empty room; player 1 aims and fires, 2 idles.
        let settings = MatchSettings(maxPlayers: 2, tickRate: 60, scoreLimit: 2, timeLimitSeconds: 600, map: "empty")
        let harness = SimHarness(rules: rules, settings: settings, seed: 5, policy: Self.idle)
        harness.policy = Self.shooter(harness)
        try harness.addClient(1, name: "shooter")
        try harness.addClient(2, name: "target")
        #expect(harness.run(forAtMost: 120) { !harness.registry.reports.isEmpty })
        let report = try #require(harness.registry.reports.first)
        #expect(report.matchID == harness.matchID)
        #expect(!report.abandoned)
        #expect(report.lines.map(\.playerID) == [1, 2])
        #expect(report.lines.map(\.placement) == [1, 2])
        #expect(report.lines[0].score >= 2 && report.lines[0].kills >= 2)
        #expect(report.lines[1].deaths >= 2)
        #expect(report.lines.allSatisfy { $0.secondsPlayed > 0 })
        #expect(report.endedAt > harness.epoch, "the report carries the injected wall clock")
        #expect(harness.events.contains(.matchEnded(matchID: harness.matchID)))
        #expect(harness.events.contains(.left(matchID: harness.matchID, playerID: 2, reason: .matchEnded)))
        #expect(harness.clients.values.allSatisfy { !$0.connected }, "everyone is disconnected at the end")
        #expect(harness.server.matchCount == 0)
        harness.run(ticks: 10)  // what was in flight lands
        for player in [PlayerID(1), 2] {
            let standings = try #require(harness.clients[player]?.session.finalStandings, "the last message names the final standings")
            #expect(standings.map(\.playerID) == [1, 2])
            #expect(standings.map(\.displayName) == ["shooter", "target"])
            #expect(standings[0].kills == report.lines[0].kills)
        }
    }

    @Test func theMatchOverMessageRoundTripsAndRefusesMalformedBytes() throws {
        let lines = [
            ScoreLine(playerID: .max, displayName: String(repeating: "é", count: 40), score: Int(Int32.max) + 5, kills: 70_000, deaths: 3),
            ScoreLine(playerID: 2, displayName: "", score: -4),
        ]
        let bytes = MatchOverMessage.encode(lines)
        let decoded = try #require(MatchOverMessage.decode(bytes))
        #expect(decoded.map(\.playerID) == [.max, 2])
        #expect(decoded[0].score == Int(Int32.max) && decoded[0].kills == Int(UInt16.max), "clamped")
        #expect(decoded[0].displayName == String(repeating: "é", count: 16), "names cut at 32 bytes")
        #expect(decoded[1].score == -4)
        #expect(MatchOverMessage.decode(bytes + [0]) == nil, "trailing bytes")
        #expect(MatchOverMessage.decode(Array(bytes.dropLast())) == nil, "a short line")
        #expect(MatchOverMessage.decode([MatchOverMessage.kind, 1] + [UInt8](repeating: 0, count: 16) + [33] + [UInt8](repeating: 65, count: 33)) == nil)
        #expect(MatchOverMessage.decode([SnapshotCodec.kind, 0]) == nil)
        #expect(MatchOverMessage.decode([]) == nil)
    }

    @Test func liveScoresReachTheRegistryAndSurviveAPlayerLeaving() throws {
        let settings = MatchSettings(maxPlayers: 2, tickRate: 60, scoreLimit: 50, map: "empty")
        let harness = SimHarness(rules: rules, settings: settings, seed: 6, policy: Self.idle)
        harness.policy = Self.shooter(harness)
        try harness.addClient(1, name: "shooter")
        try harness.addClient(2, name: "target")
        #expect(harness.run(forAtMost: 60) { (harness.registry.scoreboard(matchID: harness.matchID, now: harness.time)?.first?.kills ?? 0) >= 1 })
        let before = try #require(harness.registry.scoreboard(matchID: harness.matchID, now: harness.time))
        harness.removeClient(2, reason: .timedOut)
        let after = try #require(harness.registry.scoreboard(matchID: harness.matchID, now: harness.time))
        #expect(after.count == 2, "a departed player keeps its line")
        #expect(after.first { $0.playerID == 2 }?.deaths == before.first { $0.playerID == 2 }?.deaths)
        #expect(harness.events.contains(.left(matchID: harness.matchID, playerID: 2, reason: .disconnected(.timedOut))))
    }

    @Test func stoppingTheServerReportsTheRunningMatchAbandoned() throws {
        let harness = SimHarness(rules: rules, settings: MatchSettings(tickRate: 60), policy: Self.idle)
        try harness.addClient(1, name: "a")
        harness.run(ticks: 120)
        harness.stopServer()
        let report = try #require(harness.registry.reports.first)
        #expect(report.abandoned)
        #expect(report.lines.map(\.playerID) == [1])
        #expect(abs(report.lines[0].secondsPlayed - 2) < 0.1, "time played so far: \(report.lines[0].secondsPlayed)")
    }

    @Test func aProtocolViolationIsReportedOnceWithItsTypedReason() throws {
        let harness = SimHarness(rules: rules, settings: MatchSettings(tickRate: 60), policy: Self.idle)
        try harness.addClient(1, name: "a")
        var output = DroppedClients()
        let packet: [UInt8] = [0xFF, 0xFF, 0xFF]
        packet.withUnsafeBytes { harness.server.payloadReceived(0, bytes: $0, now: 0, output: &output) }
        #expect(output.dropped == [0])
        let events = harness.server.takeEvents()
        #expect(events == [.left(matchID: harness.matchID, playerID: 1, reason: .fault(.malformedPacket))])
        #expect(harness.server.faults == ["malformed_packet": 1])
        harness.server.clientDisconnected(0, reason: .localDisconnect, now: 0)
        #expect(harness.server.takeEvents().isEmpty, "the transport's later disconnect is not a second departure")
    }

    struct DroppedClients: MatchServerOutput {
        var dropped: [Int] = []
        mutating func send(_ packet: UnsafeRawBufferPointer, to client: Int) {}
        mutating func disconnect(_ client: Int) { dropped.append(client) }
    }
}
