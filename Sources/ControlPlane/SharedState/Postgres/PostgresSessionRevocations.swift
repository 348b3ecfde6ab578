import Logging

/// ``SessionRevocations`` across the control ports on one PostgreSQL database, on the
/// notification bus: each instance forgets the revoked sessions in its ``SessionCache`` and its
/// observers (the chat relay) close their sockets. Each instance hears its own announcements
/// back from the bus; applying one twice changes nothing.
///
/// Bodies: `s:ID,ID,...` (sessions, split to fit a notification) or `p:ID` (a player).
final class PostgresSessionRevocations: SessionRevocations, BusConsumer {
    private let bus: PostgresNotificationBus
    private let cache: SessionCache
    private let observers = SessionRevocationObservers()
    private let logger: Logger

    init(bus: PostgresNotificationBus, cache: SessionCache, logger: Logger = Logger(label: "arbiter.sessions")) {
        self.bus = bus
        self.cache = cache
        self.logger = logger
        bus.subscribe(self, to: [.sessionRevoked])
    }

    /// Applies `revocation` here at once, then tells every instance through the bus. Should the
    /// database refuse the notification, the others' caches hold the sessions until their entries
    /// lapse, and their sockets until their own listener next reconnects and they recheck.
    func announce(_ revocation: SessionRevocation) async {
        await apply(revocation)
        for body in Self.bodies(revocation) {
            do {
                try await bus.publish(.sessionRevoked, body)
            } catch {
                logger.error(
                    "could not announce a revocation to the other control ports",
                    metadata: ["revocation": "\(body.prefix(64))", "error": "\(PostgresDatabase.reason(error))"])
            }
        }
    }

    func observe(_ observer: @escaping @Sendable (SessionRevocationNotice) async -> Void) { observers.add(observer) }

    func receive(_ topic: BusTopic, _ body: Substring) async {
        guard let revocation = Self.revocation(in: body) else {
            logger.warning("ignored a malformed revocation notification", metadata: ["body": "\(body.prefix(64))"])
            return
        }
        await apply(revocation)
    }

    func recover() async {
        cache.forgetEverything()
        await observers.tell(.mayHaveMissed)
    }

    private func apply(_ revocation: SessionRevocation) async {
        cache.forget(revocation)
        await observers.tell(.revoked(revocation))
    }

    /// The notification bodies that carry `revocation`, each within the bus's bound.
    static func bodies(_ revocation: SessionRevocation) -> [String] {
        switch revocation {
        case .player(let player):
            return ["p:\(player)"]
        case .sessions(let sessions):
            var bodies: [String] = []
            var body = "s:"
            for session in sessions {
                let item = String(session)
                if body.utf8.count + item.utf8.count + 1 > PostgresNotificationBus.maximumBodyBytes {
                    bodies.append(body)
                    body = "s:"
                }
                if body.utf8.count > 2 { body += "," }
                body += item
            }
            if body.utf8.count > 2 { bodies.append(body) }
            return bodies
        }
    }

    static func revocation(in body: Substring) -> SessionRevocation? {
        if body.hasPrefix("p:") { return Int64(body.dropFirst(2)).map { .player($0) } }
        guard body.hasPrefix("s:") else { return nil }
        var sessions: [Int64] = []
        for item in body.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false) {
            guard let session = Int64(item) else { return nil }
            sessions.append(session)
        }
        return sessions.isEmpty ? nil : .sessions(sessions)
    }
}
