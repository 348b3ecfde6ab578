/// What a control port tells every control port's ``SessionCache`` to forget.
enum SessionRevocation: Sendable, Hashable {
    /// These sessions were revoked (logout, a revoked refresh family, a rotation).
    case sessions([Int64])
    /// What is cached about this player changed (username, display name): its profile and the
    /// identities of its sessions.
    case player(Int64)
}

/// Carries revocations to the session cache of every control port sharing the database.
/// ``LocalSessionRevocations`` reaches this process's only; several control ports would
/// broadcast (PostgreSQL LISTEN/NOTIFY), each applying what it hears to its own cache. Missed
/// announcements stay harmless for no longer than the cache's entry lifetime.
protocol SessionRevocations: Sendable {
    /// Returns once this process's cache has forgotten what `revocation` names, and, when it is
    /// shared, once the announcement has been sent to the others.
    func announce(_ revocation: SessionRevocation) async
}

/// Revocations within one process.
struct LocalSessionRevocations: SessionRevocations {
    let cache: SessionCache

    func announce(_ revocation: SessionRevocation) async {
        cache.forget(revocation)
    }
}
