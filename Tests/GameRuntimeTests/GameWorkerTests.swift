import ArbiterClient
import Foundation
import GameCore
import GameRuntime
import MatchContract
import NetProtocol
import Synchronization
import Testing

/// Several game workers, each a thread with its own UDP socket and matches (what `arbiter
/// serve --game-threads N` runs): matches are spread over them, a client reaches its match's
/// worker from its token alone, and one worker held still does not hold the other. Over real
/// loopback UDP, in the schedule serve uses (the socket drained at each tick); bounded by tick
/// counts, never by sleeping.
@Suite struct GameWorkerTests {
    /// A game server handler that a test can hold inside its tick, as a stalled worker would be.
    final class HoldableHandler: TransportServerHandler {
        let inner: GameServerHandler<ArenaRules>
        let hold = Atomic<Bool>(false)
        let held = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)

        init(_ inner: GameServerHandler<ArenaRules>) { self.inner = inner }

        func clientConnected(_ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress) {
            inner.clientConnected(&context, clientIndex: clientIndex, clientID: clientID, address: address)
        }
        func payloadReceived(_ context: inout TransportServer.Context, clientIndex: Int, bytes: UnsafeRawBufferPointer) {
            inner.payloadReceived(&context, clientIndex: clientIndex, bytes: bytes)
        }
        func clientDisconnected(
            _ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress, reason: DisconnectReason
        ) {
            inner.clientDisconnected(&context, clientIndex: clientIndex, clientID: clientID, address: address, reason: reason)
        }
        func tick(_ context: inout TransportServer.Context) {
            if hold.exchange(false, ordering: .acquiringAndReleasing) {
                held.signal()
                release.wait()
            }
            inner.tick(&context)
        }
        var nextDeadline: Double? { inner.nextDeadline }
        func serverStopped(now: Double) { inner.serverStopped(now: now) }
    }

    struct RunningWorker {
        let handler: HoldableHandler
        let stop: StopSignal
        let done: DispatchSemaphore
    }

    static let protocolID: UInt64 = 0x7E57

    func startWorkers(_ count: Int, key: SymmetricKey) throws -> (GameWorkerPool, [RunningWorker]) {
        var workers: [GameWorkerPool.Worker] = []
        var running: [RunningWorker] = []
        for index in 0..<count {
            let bind = NetAddress(ipv4: 127, 0, 0, 1, port: 0)
            let server = try TransportServer(
                configuration: ServerConfiguration(protocolID: Self.protocolID, privateKey: key, serverAddresses: []), bind: bind,
                updateInterval: 0.005, schedule: .atDeadlines)
            let directory = MatchDirectory()
            let statsBoard = GameServerStatsBoard()
            let handler = HoldableHandler(GameServerHandler(
                rules: ArenaRules(), directory: directory, logger: .init(label: "test"), statsBoard: statsBoard, worker: index))
            workers.append(.init(index: index, address: server.socket.localAddress, directory: directory, statsBoard: statsBoard))
            let (stop, done) = (StopSignal(), DispatchSemaphore(value: 0))
            nonisolated(unsafe) let owned = (server, handler)
            Thread {
                nameCurrentThread("arbiter-game-\(index)")
                owned.0.run(handler: owned.1, until: stop)
                done.signal()
            }.start()
            running.append(RunningWorker(handler: handler, stop: stop, done: done))
        }
        return (GameWorkerPool(workers: workers), running)
    }

    func client(for matchID: UInt64, player: UInt64, at address: NetAddress, key: SymmetricKey) throws -> GameClient<ArenaRules> {
        var random = SystemRandomSource()
        let client = try GameClient(settings: MatchSettings(tickRate: 60))
        client.connect(token: try ConnectToken.generate(
            publicAddresses: [address], expireSeconds: 60, timeoutSeconds: 5, clientID: player, protocolID: Self.protocolID, privateKey: key,
            userData: MatchTicket(matchID: matchID, playerID: player, displayName: "p\(player)").encoded(), nowUnix: SystemClock().unixSeconds(),
            random: &random))
        return client
    }

    func stop(_ running: [RunningWorker]) {
        for worker in running {
            worker.stop.stop()
            worker.done.wait()
        }
    }

    /// Creates `count` matches in the pool and reserves each for a minute (as the join route does).
    func placeMatches(_ count: Int, in pool: GameWorkerPool) -> [(matchID: UInt64, worker: GameWorkerPool.Worker)] {
        let settings = MatchSettings(maxPlayers: 4, tickRate: 60)
        let placements = (0..<count).map { _ in pool.createMatch(settings: settings, now: SystemClock().monotonicSeconds()) }
        for placement in placements {
            #expect(placement.worker.directory.reserve(matchID: placement.matchID, until: SystemClock().monotonicSeconds() + 60))
        }
        return placements
    }

    /// Plays every client one tick of real time per round, `rounds` times or until `done`.
    func play(_ clients: [GameClient<ArenaRules>], rounds: Int, until done: () -> Bool = { false }) {
        let clock = SystemClock()
        for _ in 0..<rounds {
            let deadline = clock.monotonicSeconds() + 1.0 / 60
            for client in clients { client.tick(input: ArenaRules.Input(moveX: 60), until: deadline) }
            if done() { return }
        }
    }

    @Test func matchesSpreadOverWorkersAndEachClientReachesItsOwn() throws {
        var random = SystemRandomSource()
        let key = SymmetricKey(random: &random)
        let (pool, running) = try startWorkers(2, key: key)
        defer { stop(running) }
        let placements = placeMatches(2, in: pool)
        let (first, second) = (placements[0], placements[1])
        // Least-loaded placement: the second match goes to the worker without one.
        #expect(first.worker.index != second.worker.index)
        #expect(pool.worker(running: first.matchID)?.index == first.worker.index)
        #expect(pool.worker(running: second.matchID)?.index == second.worker.index)

        let clients = try [
            client(for: first.matchID, player: 1, at: first.worker.address, key: key),
            client(for: second.matchID, player: 2, at: second.worker.address, key: key),
        ]
        // A token for the first match naming the other worker: that worker does not run it.
        let astray = try client(for: first.matchID, player: 3, at: second.worker.address, key: key)
        play(clients + [astray], rounds: 600) {
            clients.allSatisfy { $0.simulation.snapshotsReceived > 60 } && astray.state.rawValue <= 0
        }
        for client in clients {
            #expect(client.state == .connected)
            #expect(client.simulation.snapshotsReceived > 60)
        }
        #expect(astray.state.rawValue <= 0, "the worker without the match turns the token away: \(astray.state)")

        let servers = running.map(\.handler.inner.server)
        #expect(servers[first.worker.index].simulation(of: first.matchID) != nil)
        #expect(servers[second.worker.index].simulation(of: first.matchID) == nil)
        #expect(servers[second.worker.index].simulation(of: second.matchID) != nil)
        #expect(servers[first.worker.index].simulation(of: second.matchID) == nil)
        #expect(running.allSatisfy { $0.handler.inner.ticks > 30 })
        for client in clients + [astray] { client.disconnect() }
    }

    @Test func aHeldWorkerDoesNotHoldTheOther() throws {
        var random = SystemRandomSource()
        let key = SymmetricKey(random: &random)
        let (pool, running) = try startWorkers(2, key: key)
        defer { stop(running) }
        let placements = placeMatches(2, in: pool)
        let clients = try placements.enumerated().map { index, placement in
            try client(for: placement.matchID, player: UInt64(index + 1), at: placement.worker.address, key: key)
        }
        play(clients, rounds: 600) { clients.allSatisfy { $0.state == .connected && $0.simulation.snapshotsReceived > 10 } }
        #expect(clients.allSatisfy { $0.state == .connected })

        let heldIndex = placements[0].worker.index
        let held = running[heldIndex].handler
        let free = running[placements[1].worker.index].handler
        held.hold.store(true, ordering: .releasing)
        held.held.wait()
        // While one worker is held inside its tick, the other goes on ticking and sending.
        let ticksBefore = free.inner.ticks
        let snapshotsBefore = clients[1].simulation.snapshotsReceived
        play(clients, rounds: 600) { free.inner.ticks >= ticksBefore + 30 }
        let ticksDuringHold = free.inner.ticks - ticksBefore
        let heldTicks = held.inner.ticks
        held.release.signal()
        #expect(ticksDuringHold >= 30)
        #expect(clients[1].simulation.snapshotsReceived > snapshotsBefore + 20)
        // The held worker skipped ahead when it came back (counted as an overrun) instead of
        // bursting the ticks it missed.
        play(clients, rounds: 600) { held.inner.ticks > heldTicks + 10 }
        #expect(held.inner.overruns >= 1)
        for client in clients { client.disconnect() }
    }

    /// The whole server's report from its workers': histograms add, so its percentiles are the
    /// percentiles of every worker's passes together, not the worst worker's.
    @Test func workersReportsMergeIntoTheWholeServers() {
        func report(_ micros: [UInt64], clients: Int, overruns: UInt64, loss: Double) -> ServerStatsReport {
            var histogram = DurationHistogram()
            for value in micros { histogram.record(microseconds: value) }
            var report = ServerStatsReport.empty
            let phase = ServerStatsReport.Phase(p50Ms: 0, p99Ms: 0, maxMs: Double(micros.max() ?? 0) / 1000, histogram: histogram)
            report.tick = .init(
                count: UInt64(micros.count), p50Ms: histogram.percentileSeconds(0.5) * 1000, p90Ms: 0, p99Ms: histogram.percentileSeconds(0.99) * 1000,
                p999Ms: 0, maxMs: Double(micros.max() ?? 0) / 1000, overruns: overruns,
                phases: .init(receive: phase, simulate: phase, snapshotSend: phase), histogram: histogram)
            report.connectedClients = clients
            report.meanPacketLoss = loss
            report.drops = ["bad_mac": 2]
            return report
        }
        let fast = Array(repeating: UInt64(100), count: 90)
        let slow = Array(repeating: UInt64(5_000), count: 10)
        let merged = ServerStatsReport.merging([report(fast, clients: 30, overruns: 1, loss: 0), report(slow, clients: 10, overruns: 2, loss: 0.4)])
        var whole = DurationHistogram()
        for value in fast + slow { whole.record(microseconds: value) }
        #expect(merged.tick.histogram == whole)
        #expect(merged.tick.p50Ms == whole.percentileSeconds(0.5) * 1000)
        #expect(merged.tick.p99Ms == whole.percentileSeconds(0.99) * 1000)
        #expect(merged.tick.phases.simulate.histogram == whole)
        #expect(merged.tick.count == 100 && merged.tick.overruns == 3 && merged.connectedClients == 40)
        #expect(merged.tick.maxMs == 5)
        #expect(abs(merged.meanPacketLoss - 0.1) < 1e-12)
        #expect(merged.drops == ["bad_mac": 4])
    }
}
