import Foundation
import Synchronization

/// This process's memory of recently checked sessions and of their players' accounts, so that
/// an authenticated request (and `GET /v1/me`) usually reads nothing from the database.
///
/// Bounded in size (at most `capacity` sessions and as many accounts, least recently used
/// dropped first) and in time: an entry is believed for at most `lifetime` seconds and never
/// past its session's expiry, so even an invalidation that never arrived (another control port,
/// a lost notification) leaves it stale for no longer than that. Revocations and profile changes
/// forget entries at once (``forget(_:)``, through ``SessionRevocations``). A database read that
/// began before a revocation is not remembered after it: each fill names the ``epoch`` it read
/// under, and any forgetting since then refuses it.
final class SessionCache: Sendable {
    private struct CachedIdentity {
        var identity: Identity
        var cachedAt: Date
        var validUntil: Date
    }

    private struct CachedAccount {
        var account: Account
        var cachedAt: Date
        var validUntil: Date
    }

    private struct State {
        var identities: RecentlyUsed<Data, CachedIdentity>
        var accounts: RecentlyUsed<Int64, CachedAccount>
        /// Which cached token stands for each cached session, and each player's cached sessions:
        /// what revocations by session and by player find entries through.
        var tokenOfSession: [Int64: Data] = [:]
        var sessionsOfPlayer: [Int64: Set<Int64>] = [:]
        var epoch: UInt64 = 0

        mutating func unindex(_ identity: Identity) {
            tokenOfSession.removeValue(forKey: identity.sessionID)
            sessionsOfPlayer[identity.playerID]?.remove(identity.sessionID)
            if sessionsOfPlayer[identity.playerID]?.isEmpty == true { sessionsOfPlayer.removeValue(forKey: identity.playerID) }
        }

        mutating func removeSession(_ session: Int64) {
            guard let token = tokenOfSession[session], let entry = identities.remove(token) else { return }
            unindex(entry.identity)
        }
    }

    private let state: Mutex<State>
    let lifetime: TimeInterval

    /// - Parameters:
    ///   - capacity: sessions (and accounts) remembered at most; 0 remembers nothing.
    ///   - lifetime: seconds an entry is believed without asking the database again.
    init(capacity: Int, lifetime: TimeInterval) {
        self.lifetime = capacity > 0 ? max(0, lifetime) : 0
        state = Mutex(State(identities: RecentlyUsed(capacity: capacity), accounts: RecentlyUsed(capacity: capacity)))
    }

    /// Changes with every forgetting; pass what it was before a database read to the fill.
    var epoch: UInt64 { state.withLock { $0.epoch } }

    /// Sessions cached now.
    var sessionCount: Int { state.withLock { $0.identities.count } }

    /// Whether an entry cached at `cachedAt` is still believed at `now` (a clock stepped back
    /// ends it too).
    private static func isFresh(cachedAt: Date, validUntil: Date, at now: Date) -> Bool {
        now >= cachedAt && now < validUntil
    }

    func identity(forTokenHash hash: Data, at now: Date) -> Identity? {
        state.withLock { state in
            guard let (entry, dropped) = state.identities.value(for: hash) else { return nil }
            for old in dropped.values { state.unindex(old.identity) }
            guard Self.isFresh(cachedAt: entry.cachedAt, validUntil: entry.validUntil, at: now) else {
                state.identities.remove(hash)
                state.unindex(entry.identity)
                return nil
            }
            return entry.identity
        }
    }

    /// Remembers what the database said of `hash`, unless something was forgotten since `epoch`.
    func remember(_ identity: Identity, forTokenHash hash: Data, at now: Date, readAtEpoch epoch: UInt64) {
        guard lifetime > 0 else { return }
        state.withLock { state in
            guard state.epoch == epoch else { return }
            let entry = CachedIdentity(identity: identity, cachedAt: now, validUntil: min(now.addingTimeInterval(lifetime), identity.sessionExpiresAt))
            if let previous = state.identities.remove(hash) { state.unindex(previous.identity) }
            for old in state.identities.insert(entry, for: hash).values { state.unindex(old.identity) }
            state.tokenOfSession[identity.sessionID] = hash
            state.sessionsOfPlayer[identity.playerID, default: []].insert(identity.sessionID)
        }
    }

    func account(id: Int64, at now: Date) -> Account? {
        state.withLock { state in
            guard let (entry, _) = state.accounts.value(for: id) else { return nil }
            guard Self.isFresh(cachedAt: entry.cachedAt, validUntil: entry.validUntil, at: now) else {
                state.accounts.remove(id)
                return nil
            }
            return entry.account
        }
    }

    func remember(_ account: Account, at now: Date, readAtEpoch epoch: UInt64) {
        guard lifetime > 0 else { return }
        state.withLock { state in
            guard state.epoch == epoch else { return }
            let entry = CachedAccount(account: account, cachedAt: now, validUntil: now.addingTimeInterval(lifetime))
            state.accounts.insert(entry, for: account.id)
        }
    }

    func forget(_ revocation: SessionRevocation) {
        state.withLock { state in
            state.epoch &+= 1
            switch revocation {
            case .sessions(let sessions):
                for session in sessions { state.removeSession(session) }
            case .player(let player):
                state.accounts.remove(player)
                for session in state.sessionsOfPlayer[player] ?? [] { state.removeSession(session) }
            }
        }
    }

    /// Forgets every entry: revocations may have been missed (the bus reconnected).
    func forgetEverything() {
        state.withLock { state in
            state.epoch &+= 1
            state.identities.removeAll()
            state.accounts.removeAll()
            state.tokenOfSession = [:]
            state.sessionsOfPlayer = [:]
        }
    }
}
