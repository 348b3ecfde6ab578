import Logging

/// ``SessionEndNotices`` across the control ports on one PostgreSQL database, on the
/// notification bus. Each instance hears its own announcements back from the bus; an observer
/// must take a notice twice as once (ending an ended session changes nothing).
final class PostgresSessionEnds: SessionEndNotices, BusConsumer {
    private let bus: PostgresNotificationBus
    private let observers = SessionEndObservers()
    private let logger: Logger

    init(bus: PostgresNotificationBus, logger: Logger = Logger(label: "arbiter.sessions")) {
        self.bus = bus
        self.logger = logger
        bus.subscribe(self, to: [.sessionEnded])
    }

    /// Tells this instance's observers at once, then every instance through the bus. Should the
    /// database refuse the notification, the others learn of it only when their own listener
    /// next reconnects and they recheck.
    func announce(_ session: Int64) async {
        await observers.tell(.ended(session: session))
        do {
            try await bus.publish(.sessionEnded, String(session))
        } catch {
            logger.error("could not announce a session's end to the other control ports", metadata: ["session": "\(session)", "error": "\(PostgresDatabase.reason(error))"])
        }
    }

    func observe(_ observer: @escaping @Sendable (SessionEndNotice) async -> Void) { observers.add(observer) }

    func receive(_ topic: BusTopic, _ body: Substring) async {
        guard let session = Int64(body) else {
            logger.warning("ignored a malformed session notification", metadata: ["body": "\(body.prefix(64))"])
            return
        }
        await observers.tell(.ended(session: session))
    }

    func recover() async { await observers.tell(.mayHaveMissed) }
}
