@testable import ControlPlane
import Foundation
import GameCore
import GameRuntime
import Hummingbird
import HummingbirdTesting
import MatchContract
import NetProtocol
import PostgresNIO
import Testing

/// One control-port instance with its in-process game server (a test host), as the match
/// directory in the database sees it. The tests drive its poll (``MatchDirectoryPublisher/step()``)
/// themselves rather than wait for its timer.
struct DirectoryInstance {
    let instance: ControlInstance
    let host: DirectoryHost
    let directory: PostgresMatchDirectory
    let hosting: DirectoryMatchHosting
    let publisher: MatchDirectoryPublisher

    init(database: PostgresDatabase, port: UInt16, idleSeconds: Double = 60, playEndpoint: PlayEndpoint? = nil) async throws {
        // A generous bound: a live server never lapses on a loaded machine (death is injected).
        instance = ControlInstance(database: database, staleAfter: 600)
        try await instance.heartbeat()
        var host = DirectoryHost(directory: MatchDirectory(idleSeconds: idleSeconds), serverAddress: NetAddress(ipv4: 127, 0, 0, 1, port: port))
        host.endpoint = playEndpoint
        self.host = host
        directory = PostgresMatchDirectory(instance: instance)
        hosting = DirectoryMatchHosting(local: host, directory: directory)
        publisher = MatchDirectoryPublisher(directory: directory, local: host)
        await publisher.step()
    }

    /// When the host's match ends if nobody connects, in seconds from now.
    func emptyFor(_ matchID: UInt64) -> Double? {
        let now = host.now()
        return host.directory.listings(now: now).first { $0.matchID == matchID }?.emptyUntil.map { $0 - now }
    }
}

@Suite(.enabled(if: PostgresTestCluster.isAvailable, "PostgreSQL is not installed"))
struct MatchDirectoryTests {
    static let settings = MatchSettings(mode: "arena", maxPlayers: 4, tickRate: 60, scoreLimit: 20, timeLimitSeconds: 600)

    @Test func aReservationThroughAnotherInstanceReachesTheHost() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            let a = try await DirectoryInstance(database: pools[0], port: 40001)
            let b = try await DirectoryInstance(database: pools[1], port: 40002)
            let placement = try await a.hosting.createMatch(gameID: 1, settings: Self.settings)
            #expect(placement.serverAddress == a.host.serverAddress)
            // B does not run the match, but finds it listed, on a live server.
            #expect(try await b.hosting.reserve(matchID: placement.matchID, forSeconds: 600))
            let before = try #require(a.emptyFor(placement.matchID))
            #expect(before <= 60)
            // A's next poll applies it to A's game server.
            await a.publisher.step()
            let after = try #require(a.emptyFor(placement.matchID))
            #expect(after > 500 && after <= 600)
            #expect(try await pools[0].count("match_reservations") == 0)
            // A match no live server lists is not reserved.
            #expect(try await !b.hosting.reserve(matchID: 12345, forSeconds: 60))
            // A reservation through A itself is local.
            #expect(try await a.hosting.reserve(matchID: placement.matchID, forSeconds: 60))
            #expect(try await pools[0].count("match_reservations") == 0)
        }
    }

    /// Behind a balancer a WebSocket must reach the instance that runs the match, whichever
    /// instance answered the join: B names A's endpoint for A's match, and its own for its own.
    @Test func aMatchOnAnotherInstanceIsPlayedAtItsHostsEndpoint() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            let a = try await DirectoryInstance(database: pools[0], port: 40001, playEndpoint: .path("/instances/a/v1/play"))
            let b = try await DirectoryInstance(database: pools[1], port: 40002, playEndpoint: .url("wss://b.example.com/v1/play"))
            let plain = try await DirectoryInstance(database: pools[1], port: 40003)
            let onA = try await a.hosting.createMatch(gameID: 1, settings: Self.settings).matchID
            let onB = try await b.hosting.createMatch(gameID: 2, settings: Self.settings).matchID
            let onPlain = try await plain.hosting.createMatch(gameID: 3, settings: Self.settings).matchID
            #expect(await a.hosting.playEndpoint(matchID: onA) == .path("/instances/a/v1/play"))
            #expect(await b.hosting.playEndpoint(matchID: onA) == .path("/instances/a/v1/play"))
            #expect(await a.hosting.playEndpoint(matchID: onB) == .url("wss://b.example.com/v1/play"))
            #expect(await b.hosting.playEndpoint(matchID: onB) == .url("wss://b.example.com/v1/play"))
            // A server that names none: the request's own /v1/play.
            #expect(await a.hosting.playEndpoint(matchID: onPlain) == nil)
            #expect(await a.hosting.playEndpoint(matchID: 12345) == nil)
        }
    }

    @Test func remoteScoreboardsArePublished() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            let a = try await DirectoryInstance(database: pools[0], port: 40001)
            let b = try await DirectoryInstance(database: pools[1], port: 40002)
            let matchID = try await a.hosting.createMatch(gameID: 1, settings: Self.settings).matchID
            #expect(await b.hosting.scoreboard(matchID: matchID) == [])
            let line = ScoreLine(playerID: 9, displayName: "Nine", score: 4, kills: 2, deaths: 1)
            _ = a.host.directory.admit(MatchTicket(matchID: matchID, playerID: 9, displayName: "Nine"), now: a.host.now())
            a.host.directory.updateScores(matchID: matchID, lines: [line])
            await a.publisher.step()
            #expect(await b.hosting.scoreboard(matchID: matchID) == [line])
            #expect(await a.hosting.scoreboard(matchID: matchID) == [line])
            // The match ends on A: the next poll unlists it.
            _ = a.host.directory.end(matchID: matchID, now: a.host.now(), wallClock: Date())
            await a.publisher.step()
            #expect(await b.hosting.scoreboard(matchID: matchID) == nil)
            #expect(try await !b.hosting.reserve(matchID: matchID, forSeconds: 60))
            #expect(try await pools[0].count("hosted_matches") == 0)
        }
    }

    @Test func aDeadServersMatchesAreNeitherReservedNorRead() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            let a = try await DirectoryInstance(database: pools[0], port: 40001)
            let b = try await DirectoryInstance(database: pools[1], port: 40002)
            let matchID = try await a.hosting.createMatch(gameID: 1, settings: Self.settings).matchID
            _ = try await pools[0].rows(
                "UPDATE game_servers SET heartbeat_at = heartbeat_at - make_interval(secs => 601) WHERE id = \(a.directory.serverID)")
            #expect(try await !b.hosting.reserve(matchID: matchID, forSeconds: 60))
            #expect(await b.hosting.scoreboard(matchID: matchID) == nil)
            #expect(try await b.directory.deleteStaleServers() == 1)
            #expect(try await pools[0].count("hosted_matches") == 0)
            // A's next poll registers its server again, and lists its match again.
            await a.publisher.step()
            #expect(try await b.hosting.reserve(matchID: matchID, forSeconds: 60))
        }
    }

    @Test func aMatchAboutToLapseUnjoinedIsNotReservedRemotely() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            // An empty match ends 1 s after it was created: within the lapse margin.
            let a = try await DirectoryInstance(database: pools[0], port: 40001, idleSeconds: 1)
            let b = try await DirectoryInstance(database: pools[1], port: 40002)
            let matchID = try await a.hosting.createMatch(gameID: 1, settings: Self.settings).matchID
            await a.publisher.step()
            #expect(try await !b.hosting.reserve(matchID: matchID, forSeconds: 60))
            // Someone connects: no deadline any more.
            _ = a.host.directory.admit(MatchTicket(matchID: matchID, playerID: 9, displayName: "Nine"), now: a.host.now())
            await a.publisher.step()
            #expect(try await b.hosting.reserve(matchID: matchID, forSeconds: 60))
        }
    }

    /// Two control ports on one database, each with its own game server: a join through B for
    /// the match running on A's server gets a token for A's match, and does not abandon it.
    @Test func aJoinThroughAnotherInstanceKeepsTheRunningMatch() async throws {
        try await SharedDatabase.with(pools: 2) { pools async throws in
            var random = SystemRandomSource()
            let minter = TokenMinter(privateKey: SymmetricKey(random: &random), protocolID: TestControlPlane.protocolID)
            let vault = EmailVault.random()
            var instances: [DirectoryInstance] = []
            var built: [Application<RouterResponder<ArbiterRequestContext>>] = []
            for (index, pool) in pools.enumerated() {
                let instance = try await DirectoryInstance(database: pool, port: UInt16(40001 + index))
                let services = try await ControlPlaneServices.make(
                    postgres: pool, bus: nil, tables: PostgresSharedTables(instance: instance.instance, limits: TestControlPlane.testLimits),
                    hosting: instance.hosting, minter: minter, vault: vault,
                    settings: ControlPlaneSettings(passwordCost: .minimum, limits: TestControlPlane.testLimits))
                instances.append(instance)
                built.append(Application(router: ControlPlaneRoutes(services: services).router()))
            }
            let applications = built
            let (a, b) = (instances[0], instances[1])

            let store = ControlPlaneStores.postgres(pools[0])
            try await applications[0].test(.router) { clientA in
                try await applications[1].test(.router) { clientB in
                    let alice = try await clientA.register("alice")
                    let bob = try await clientB.register("bob")
                    let created = try await clientA.call(.post, "/v1/games", token: alice.token, json: ["name": "Shared arena"])
                    let gameID = try #require(created.int("id"))
                    let first = try await clientA.call(.post, "/v1/games/\(gameID)/join", token: alice.token)
                    #expect(first.status == .ok, "\(first.json)")
                    #expect(first.string("server_address") == "127.0.0.1:40001")
                    let second = try await clientB.call(.post, "/v1/games/\(gameID)/join", token: bob.token)
                    #expect(second.status == .ok, "\(second.json)")
                    #expect(second.string("server_address") == "127.0.0.1:40001")
                    #expect(second.int("game_session_id") == first.int("game_session_id"))
                    #expect(second["match_id"] as? Int == first["match_id"] as? Int)
                    // B's own game server started nothing, and the session still runs.
                    #expect(b.host.runningMatches().isEmpty)
                    let session = try #require(try await store.matches.runningSession(ofGame: Int64(gameID)))
                    #expect(session.id == Int64(first.int("game_session_id") ?? -1))
                    // B's token is for A's server, sealed with the key both share.
                    let token = try #require(second.string("connect_token").flatMap { Data(base64Encoded: $0) })
                    #expect(!token.isEmpty)
                    // A applies B's reservation at its next poll.
                    await a.publisher.step()
                    #expect(try await pools[0].count("match_reservations") == 0)
                    // The scoreboard read through B is A's.
                    let board = try await clientB.call(.get, "/v1/games/\(gameID)/scoreboard", token: bob.token)
                    #expect(board["running"] as? Bool == true, "\(board.json)")
                }
            }
        }
    }
}
