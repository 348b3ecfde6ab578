@testable import ControlPlane
import Foundation
import GameRuntime
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NetProtocol
import PostgresNIO
import Synchronization
import Testing

/// Two control ports on one throwaway PostgreSQL database, as two processes would be: each its
/// own pool, notification bus, services, match directory and real HTTP server on port 0. Cases
/// that need more than one instance (chat, boards, sessions, limits across instances) take one
/// with ``withTwoControlPorts(_:)``.
struct ControlPortInstance: Sendable {
    let name: String
    let services: ControlPlaneServices
    let database: ControlPlane.PostgresDatabase
    let bus: PostgresNotificationBus
    /// Holds the bus's next connection until opened (for cutting the listener off).
    let listenerGate: ConnectGate
    let directory: MatchDirectory
    let port: Int
    let client: any TestClientProtocol

    /// A chat socket on this instance, authenticated with `token`.
    func chatSocket(_ token: String) -> TestChatSocket { TestChatSocket(port: port, token: token, name: name) }

    /// Cuts the listener's connection from the server's side, holding it off until `gate` opens,
    /// and returns once it is down.
    func cutListener() async throws {
        await listenerGate.close()
        let pid = try #require(bus.listenerBackendPID)
        _ = try await database.rows("SELECT pg_terminate_backend(\(pid))")
        try await eventually("\(name)'s listener is down") { bus.listenerBackendPID == nil }
    }

    /// Lets the listener reconnect, and returns once it has and its consumers have recovered.
    func restoreListener() async {
        let before = bus.recoveries
        await listenerGate.open()
        await bus.waitForRecoveries(moreThan: before)
    }
}

/// Lets connections through while open; holds them while closed.
actor ConnectGate {
    private var isOpen = true
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func pass() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func close() { isOpen = false }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }
}

/// Runs `body` against two live control ports, A and B, on one fresh PostgreSQL database,
/// failing rather than hanging.
func withTwoControlPorts(
    limits: ControlPortLimits = TestControlPlane.testLimits,
    _ body: @escaping @Sendable (_ a: ControlPortInstance, _ b: ControlPortInstance) async throws -> Void
) async throws {
    let cluster = try await PostgresTestCluster.shared()
    let first = try await cluster.freshDatabase()
    try await first.migrate()
    let second = try ControlPlane.PostgresDatabase(
        location: cluster.location(database: first.location.database), maximumConnections: 8, logger: PostgresTestCluster.logger)
    var random = SystemRandomSource()
    let key = SymmetricKey(random: &random)
    let vault = EmailVault.random()

    func instance(_ name: String, _ database: ControlPlane.PostgresDatabase) async throws -> (ControlPlaneServices, PostgresNotificationBus, ConnectGate, MatchDirectory) {
        let gate = ConnectGate()
        let logger = Logger(label: "test.\(name)")
        let bus = PostgresNotificationBus(database: database, backoff: .init(initial: .milliseconds(5), maximum: .milliseconds(50)), logger: logger) {
            await gate.pass()
            return try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 1, logger: logger)
        }
        let directory = MatchDirectory()
        let services = try await ControlPlaneServices.make(
            postgres: database, bus: bus, tables: nil,
            hosting: DirectoryHost(directory: directory, serverAddress: NetAddress(ipv4: 127, 0, 0, 1, port: name == "A" ? 40000 : 40001)),
            minter: TokenMinter(privateKey: key, protocolID: TestControlPlane.protocolID), vault: vault,
            settings: ControlPlaneSettings(passwordCost: .minimum,
            maxConcurrentHashes: 4, limits: limits, logger: logger))
        return (services, bus, gate, directory)
    }
    try await withThrowingTaskGroup(of: Void.self) { background in
        background.addTask { try await first.run() }
        background.addTask { try await second.run() }
        let (servicesA, busA, gateA, directoryA) = try await instance("A", first)
        let (servicesB, busB, gateB, directoryB) = try await instance("B", second)
        background.addTask { try await busA.run() }
        background.addTask { try await busB.run() }
        // Both listeners listen before anything is sent.
        await busA.waitForRecoveries(moreThan: 0)
        await busB.waitForRecoveries(moreThan: 0)
        let appA = try makeControlPlaneApplication(
            services: servicesA, configuration: ControlPlaneConfiguration(host: "127.0.0.1", port: 0), logger: Logger(label: "test.A"))
        let appB = try makeControlPlaneApplication(
            services: servicesB, configuration: ControlPlaneConfiguration(host: "127.0.0.1", port: 0), logger: Logger(label: "test.B"))
        try await appA.test(.live) { clientA in
            try await appB.test(.live) { clientB in
                let a = ControlPortInstance(
                    name: "A", services: servicesA, database: first, bus: busA, listenerGate: gateA, directory: directoryA,
                    port: try #require(clientA.port), client: clientA)
                let b = ControlPortInstance(
                    name: "B", services: servicesB, database: second, bus: busB, listenerGate: gateB, directory: directoryB,
                    port: try #require(clientB.port), client: clientB)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await body(a, b) }
                    group.addTask {
                        try await Task.sleep(for: .seconds(60))
                        Issue.record("two-instance test did not finish")
                    }
                    try await group.next()
                    group.cancelAll()
                }
                // A server socket still open would hold its server's shutdown: say which.
                for (name, services) in [("A", servicesA), ("B", servicesB)] {
                    try await eventually("\(name)'s chat sockets have all closed") { await services.chat.socketCount == 0 }
                }
            }
        }
        background.cancelAll()
    }
}

/// Polls `condition` every few milliseconds, a bounded number of times, failing when it never holds.
func eventually(
    _ what: String, tries: Int = 2000, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
) async throws {
    for _ in 0..<tries {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(5))
    }
    Issue.record("never: \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}

/// A chat WebSocket client: what the server sends is collected in ``frames``; ``send(_:)``
/// writes a command.
///
/// Close a socket only once it has received what was sent to it (the sender's own copy too):
/// a frame the server writes after the client's close frame has been seen to leave the server's
/// handler for that socket hanging, and with it the server's shutdown (a known problem of the
/// chat route, not of these tests).
final class TestChatSocket: Sendable {
    private final class Inbox: Sendable {
        let frames = Mutex<[String]>([])
        let ended = Mutex(false)
    }

    private let inbox = Inbox()
    private let commands: AsyncStream<String>.Continuation
    private let task: Task<Void, any Error>

    init(port: Int, token: String, name: String) {
        let (stream, commands) = AsyncStream.makeStream(of: String.self)
        self.commands = commands
        let inbox = inbox
        task = Task {
            defer { inbox.ended.withLock { $0 = true } }
            try await TestWebSocket.connect(url: "ws://127.0.0.1:\(port)/v1/chat?token=\(token)") {
                inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await command in stream { try await outbound.write(.text(command)) }
                        // Closed by the test: say so, so that the server ends its side (a task's
                        // cancellation alone would not reach it).
                        try? await outbound.close(.normalClosure, reason: nil)
                    }
                    for try await message in inbound.messages(maxSize: 1 << 16) {
                        if case .text(let text) = message { inbox.frames.withLock { $0.append(text) } }
                    }
                    group.cancelAll()
                }
            }
        }
    }

    deinit {
        commands.finish()
        task.cancel()
    }

    /// Every frame received so far, parsed.
    var frames: [[String: Any]] {
        inbox.frames.withLock { $0 }.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] }
    }

    /// The bodies of the chat messages received so far, in order.
    var messageBodies: [String] { frames.filter { $0["type"] as? String == "message" }.compactMap { $0["body"] as? String } }

    /// Whether the server has closed the socket.
    var isClosed: Bool { inbox.ended.withLock { $0 } }

    func send(_ command: String) { commands.yield(command) }

    /// Joins `channel` and returns once the server says so.
    func join(_ channel: String) async throws {
        send(#"{"type":"join","channel":"\#(channel)"}"#)
        try await eventually("joined \(channel)") { frames.contains { $0["type"] as? String == "joined" && $0["channel"] as? String == channel } }
    }

    func say(_ body: String, in channel: String) {
        send(#"{"type":"send","channel":"\#(channel)","body":"\#(body)"}"#)
    }

    /// Sends a close frame; the server's close ends the socket.
    func close() { commands.finish() }

    /// Closes the socket and returns once it has ended (failing if it never does).
    func closeAndWait() async throws {
        close()
        try await eventually("the socket ended") { isClosed }
    }
}
