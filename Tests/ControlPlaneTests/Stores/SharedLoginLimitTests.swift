@testable import ControlPlane
import Foundation
import GameRuntime
import Hummingbird
import HummingbirdTesting
import Logging
import NetProtocol
import Testing

/// Two control ports, each a real HTTP server on port 0, on one PostgreSQL database.
@Suite(.enabled(if: PostgresTestCluster.isAvailable, "PostgreSQL is not installed"))
struct SharedLoginLimitTests {
    @Test func thePerAccountLoginLimitHoldsWithGuessesSpreadOverTwoInstances() async throws {
        var limits = TestControlPlane.testLimits
        limits.failedLoginsPerAccount = .init(rate: 1.0 / 3600, burst: 3)
        // The live servers see the test client as 127.0.0.1: trusted, so that it may name the
        // addresses it guesses from.
        limits.trustedProxies = ["127.0.0.1", "::1"]
        let configured = limits
        try await SharedDatabase.with(pools: 2) { pools async throws in
            var random = SystemRandomSource()
            let minter = TokenMinter(privateKey: SymmetricKey(random: &random), protocolID: TestControlPlane.protocolID)
            let vault = EmailVault.random()
            var built: [any ApplicationProtocol] = []
            for pool in pools {
                let services = try await ControlPlaneServices.make(
                    postgres: pool, bus: nil, tables: PostgresSharedTables(instance: ControlInstance(database: pool), limits: configured),
                    hosting: DirectoryHost(directory: MatchDirectory(), serverAddress: NetAddress(ipv4: 127, 0, 0, 1, port: 40000)),
                    minter: minter, vault: vault,
                    settings: ControlPlaneSettings(passwordCost: .minimum, limits: configured))
                built.append(try makeControlPlaneApplication(
                    services: services, configuration: ControlPlaneConfiguration(host: "127.0.0.1", port: 0), logger: Logger(label: "test")))
            }
            let applications = built
            try await Self.test(applications[0]) { a in
                try await Self.test(applications[1]) { b in
                    _ = try await a.register("owner", from: "10.0.0.1")
                    // A distributed guesser, one guess from each of three addresses, through A, B, A.
                    for (client, attacker) in [(a, "6.6.6.1"), (b, "6.6.6.2"), (a, "6.6.6.3")] {
                        let reply = try await client.call(.post, "/v1/sessions", json: ["username": "owner", "password": "wrong guess"], from: attacker)
                        #expect(reply.status == .unauthorized)
                    }
                    let fourth = try await b.call(.post, "/v1/sessions", json: ["username": "owner", "password": "wrong guess"], from: "6.6.6.4")
                    #expect(fourth.status == .tooManyRequests)
                    // The owner's address, known from the registration through A, is exempt on B too.
                    let known = try await b.call(.post, "/v1/sessions", json: ["username": "owner", "password": "correct horse battery"], from: "10.0.0.1")
                    #expect(known.status == .ok)
                    let unknown = try await a.call(.post, "/v1/sessions", json: ["username": "owner", "password": "correct horse battery"], from: "10.0.0.7")
                    #expect(unknown.status == .tooManyRequests)
                }
            }
        }
    }

    private static func test(_ application: any ApplicationProtocol, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await application.test(.live) { client in try await body(client) }
    }
}
