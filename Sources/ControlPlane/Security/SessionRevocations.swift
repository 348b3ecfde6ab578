import Synchronization

/// What a control port tells every control port's ``SessionCache`` and chat sockets.
enum SessionRevocation: Sendable, Hashable {
    /// These sessions were revoked (logout, a revoked refresh family, a rotation): forget them
    /// and close their chat sockets.
    case sessions([Int64])
    /// What is cached about this player changed (username, display name): its profile and the
    /// identities of its sessions.
    case player(Int64)
}

/// What an observer of ``SessionRevocations`` hears.
enum SessionRevocationNotice: Sendable, Equatable {
    case revoked(SessionRevocation)
    /// Announcements may have been missed (the feed reconnected): whatever holds sessions
    /// checks them against the database.
    case mayHaveMissed
}

/// Carries revocations to the session cache and the chat sockets of every control port sharing
/// the database. ``LocalSessionRevocations`` reaches this process only;
/// ``PostgresSessionRevocations`` broadcasts on the notification bus. A missed announcement stays
/// harmless in a cache for no longer than its entry lifetime; a chat socket is closed when the
/// bus recovers.
protocol SessionRevocations: Sendable {
    /// Returns once this process's cache has forgotten what `revocation` names and its observers
    /// have heard it, and, when shared, once the announcement has been sent to the others. Call
    /// it once the revocation has committed.
    func announce(_ revocation: SessionRevocation) async
    /// `observer` hears every notice from now on (each instance may hear its own announcement
    /// twice: once at once, once back from the bus; applying one twice changes nothing).
    func observe(_ observer: @escaping @Sendable (SessionRevocationNotice) async -> Void)
}

/// The observers of a ``SessionRevocations``.
final class SessionRevocationObservers: Sendable {
    private let observers = Mutex<[@Sendable (SessionRevocationNotice) async -> Void]>([])

    func add(_ observer: @escaping @Sendable (SessionRevocationNotice) async -> Void) {
        observers.withLock { $0.append(observer) }
    }

    func tell(_ notice: SessionRevocationNotice) async {
        for observer in observers.withLock({ $0 }) { await observer(notice) }
    }
}

/// Revocations within one process.
final class LocalSessionRevocations: SessionRevocations {
    let cache: SessionCache
    private let observers = SessionRevocationObservers()

    init(cache: SessionCache) { self.cache = cache }

    func announce(_ revocation: SessionRevocation) async {
        cache.forget(revocation)
        await observers.tell(.revoked(revocation))
    }

    func observe(_ observer: @escaping @Sendable (SessionRevocationNotice) async -> Void) { observers.add(observer) }
}
