import Synchronization

/// What a holder of sessions (the chat sockets, a cache of live sessions) is told.
enum SessionEndNotice: Sendable, Equatable {
    /// The session was revoked or replaced, on some control port.
    case ended(session: Int64)
    /// Notices may have been missed (the feed reconnected): check the sessions held against
    /// the database.
    case mayHaveMissed
}

/// Sessions that end on any control port, told to every control port: logout or refresh on one
/// must close the chat sockets of that session, and drop it from any cache, on all of them.
protocol SessionEndNotices: Sendable {
    /// Tells every control port, this one too, that `session` has ended. Call it once its
    /// revocation has committed.
    func announce(_ session: Int64) async
    /// `observer` hears every notice from now on.
    func observe(_ observer: @escaping @Sendable (SessionEndNotice) async -> Void)
}

/// The observers of a ``SessionEndNotices``.
final class SessionEndObservers: Sendable {
    private let observers = Mutex<[@Sendable (SessionEndNotice) async -> Void]>([])

    func add(_ observer: @escaping @Sendable (SessionEndNotice) async -> Void) {
        observers.withLock { $0.append(observer) }
    }

    func tell(_ notice: SessionEndNotice) async {
        for observer in observers.withLock({ $0 }) { await observer(notice) }
    }
}

/// ``SessionEndNotices`` within one process: an announcement goes straight to the observers.
final class InProcessSessionEnds: SessionEndNotices {
    private let observers = SessionEndObservers()

    func announce(_ session: Int64) async { await observers.tell(.ended(session: session)) }
    func observe(_ observer: @escaping @Sendable (SessionEndNotice) async -> Void) { observers.add(observer) }
}
