import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// What the bus carries: each notification's payload is `topic:body` on one PostgreSQL channel.
enum BusTopic: String, Sendable, CaseIterable {
    /// Leaderboard entries a result set (``BoardNotices``).
    case boards = "b"
    /// A chat message was stored: its id and channel (``ChatNotices``).
    case chatMessage = "c"
    /// Sessions were revoked, or a player's cached profile changed (``PostgresSessionRevocations``).
    case sessionRevoked = "s"
    /// A player's sockets are to leave a channel (``ChatNotices``).
    case unsubscribed = "u"
}

/// Something told what arrives on one or more topics.
protocol BusConsumer: Sendable {
    /// One notification's body, in the order the transactions that sent them committed.
    func receive(_ topic: BusTopic, _ body: Substring) async
    /// Called after every (re)connection of the listener, once it listens: notifications sent
    /// while it was not connected are lost, so what they would have said is read again from
    /// the tables (the source of truth).
    func recover() async
}

/// The cross-instance notification bus on PostgreSQL's LISTEN/NOTIFY: one dedicated connection
/// per control port LISTENs on ``channel``, reconnecting with backoff whenever it drops, and
/// hands every notification to the consumers of its topic. A notification sent with
/// ``notify(_:_:on:logger:)`` inside a writing transaction is delivered exactly when (and only
/// if) the write commits, in commit order, to every listening instance (the sender's too).
///
/// Run it as a `Service` beside the database's pool. Consumers subscribe before it runs.
public final class PostgresNotificationBus: Service, Sendable {
    /// The PostgreSQL channel every topic shares.
    static let channel = "arbiter_bus"
    /// PostgreSQL refuses payloads of 8000 bytes or more; bodies are kept under this.
    static let maximumBodyBytes = 7900

    /// How long to wait before reconnecting: doubling from `initial` up to `maximum`, back to
    /// `initial` once a connection listens.
    public struct Backoff: Sendable {
        public var initial: Duration
        public var maximum: Duration
        public init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(5)) {
            self.initial = initial
            self.maximum = maximum
        }
    }

    /// Opens the listener's connection.
    typealias Connector = @Sendable () async throws -> PostgresConnection

    private struct State {
        var consumers: [BusTopic: [any BusConsumer]] = [:]
        var recovering: [any BusConsumer] = []
        /// The listener's server process while it listens (for tests that cut it).
        var backendPID: Int32?
        /// How many times the listener has connected and its consumers recovered.
        var recoveries = 0
        var recoveryWaiters: [(after: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    let database: PostgresDatabase
    private let connect: Connector
    private let backoff: Backoff
    private let logger: Logger
    private let state = Mutex(State())

    public convenience init(database: PostgresDatabase, backoff: Backoff = Backoff(), logger: Logger = Logger(label: "arbiter.bus")) {
        self.init(database: database, backoff: backoff, logger: logger) {
            try await PostgresConnection.connect(configuration: database.connectionConfiguration, id: 1, logger: logger)
        }
    }

    init(database: PostgresDatabase, backoff: Backoff = Backoff(), logger: Logger = Logger(label: "arbiter.bus"), connect: @escaping Connector) {
        self.database = database
        self.backoff = backoff
        self.logger = logger
        self.connect = connect
    }

    /// `consumer` receives what arrives on `topics`, and recovers after every connection.
    func subscribe(_ consumer: any BusConsumer, to topics: [BusTopic]) {
        state.withLock { state in
            for topic in topics { state.consumers[topic, default: []].append(consumer) }
            state.recovering.append(consumer)
        }
    }

    /// The listener's backend process id while it is connected and listening.
    var listenerBackendPID: Int32? { state.withLock { $0.backendPID } }

    /// How many times the listener has connected and had its consumers recover.
    var recoveries: Int { state.withLock { $0.recoveries } }

    /// Returns once the listener has connected and its consumers recovered more than `count` times.
    func waitForRecoveries(moreThan count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.recoveries > count { return true }
                state.recoveryWaiters.append((count, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Listens until the task is cancelled or the service group shuts down.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var delay = self.backoff.initial
            while !Task.isCancelled {
                let listened: Bool
                do {
                    try await self.listenOnce()
                    listened = true
                } catch let failure as ListenFailure {
                    listened = failure.listened
                    if !Task.isCancelled {
                        self.logger.warning("notification listener lost; reconnecting", metadata: ["error": "\(PostgresDatabase.reason(failure.error))"])
                    }
                } catch {
                    listened = false
                }
                self.state.withLock { $0.backendPID = nil }
                if listened { delay = self.backoff.initial }
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    break
                }
                delay = min(delay * 2, self.backoff.maximum)
            }
        }
    }

    private struct ListenFailure: Error {
        var error: any Error
        var listened: Bool
    }

    /// One connection's life: connect, LISTEN, recover, dispatch until it drops.
    private func listenOnce() async throws {
        let connection: PostgresConnection
        do {
            connection = try await connect()
        } catch {
            throw ListenFailure(error: error, listened: false)
        }
        var listened = false
        do {
            let pid = try await connection.rows("SELECT pg_backend_pid()", logger: logger).first?.decode(Int32.self)
            try await connection.listen(on: Self.channel) { notifications in
                // LISTEN has taken effect: whatever commits from now on reaches this sequence,
                // so what committed before it is what recovery reads from the tables.
                listened = true
                state.withLock { $0.backendPID = pid }
                await recoverAll()
                for try await notification in notifications { await dispatch(notification.payload) }
            }
        } catch {
            try? await connection.close()
            throw ListenFailure(error: error, listened: listened)
        }
        try? await connection.close()
    }

    private func recoverAll() async {
        let consumers = state.withLock { $0.recovering }
        for consumer in consumers { await consumer.recover() }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.recoveries += 1
            let ready = state.recoveryWaiters.filter { $0.after < state.recoveries }
            state.recoveryWaiters.removeAll { $0.after < state.recoveries }
            return ready.map(\.continuation)
        }
        for waiter in waiters { waiter.resume() }
    }

    private func dispatch(_ payload: String) async {
        guard let colon = payload.firstIndex(of: ":"), let topic = BusTopic(rawValue: String(payload[..<colon])) else {
            logger.warning("ignored a notification of no known topic", metadata: ["payload": "\(payload.prefix(64))"])
            return
        }
        let body = payload[payload.index(after: colon)...]
        let consumers = state.withLock { $0.consumers[topic] ?? [] }
        for consumer in consumers { await consumer.receive(topic, body) }
    }

    /// Sends `body` on `topic` from inside a transaction: delivered when it commits.
    static func notify(_ topic: BusTopic, _ body: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.run("SELECT pg_notify(\(channel), \(topic.rawValue + ":" + body))", logger: logger)
    }

    /// Sends `body` on `topic` at once, outside any transaction.
    func publish(_ topic: BusTopic, _ body: String) async throws {
        _ = try await database.rows("SELECT pg_notify(\(Self.channel), \(topic.rawValue + ":" + body))")
    }
}
