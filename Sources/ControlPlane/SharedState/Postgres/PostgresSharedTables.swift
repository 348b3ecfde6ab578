import Foundation
import Logging

/// The pieces of ``SharedState`` that several control ports on one PostgreSQL database keep in
/// its tables: who is online, the login, registration and chat budgets, the known login
/// addresses, and this instance's registration (and its game server's, in ``directory``). The
/// leaderboard cache, the chat relay and session revocations are not here (they need change
/// notifications, not tables): ``SharedState/postgres(database:bus:tables:limits:logger:)`` puts
/// them beside these.
///
/// Run ``maintenance`` (a `Service`) for as long as the instance serves.
public struct PostgresSharedTables: Sendable {
    public let instance: ControlInstance
    let presence: PostgresPresence
    let logins: LoginLimiters
    let chatMessages: PostgresRateLimiter
    /// Every rate limiter above, for the sweep.
    let limiters: [PostgresRateLimiter]
    /// The match directory of this instance's game server, if it runs one.
    public let directory: PostgresMatchDirectory?

    /// The tables' pieces for `instance`, with the budgets of `limits`.
    public init(instance: ControlInstance, limits: ControlPortLimits, directory: PostgresMatchDirectory? = nil) {
        let database = instance.database
        func limiter(_ name: String, _ rule: RateLimiter.Rule) -> PostgresRateLimiter {
            PostgresRateLimiter(name: name, rule: rule, database: database)
        }
        let byAccountAndAddress = limiter("login-failures-account-address", limits.failedLoginsPerAccountAndAddress)
        let byAccount = limiter("login-failures-account", limits.failedLoginsPerAccount)
        let byAddress = limiter("login-failures-address", limits.failedLoginsPerAddress)
        let registrations = limiter("registrations-address", limits.registrationsPerAddress)
        let deviceLogins = limiter("device-logins-address", limits.deviceLoginsPerAddress)
        let failedRefreshes = limiter("refresh-failures-address", limits.failedRefreshesPerAddress)
        let chat = limiter("chat-messages-player", limits.chatMessagesPerPlayer)
        self.instance = instance
        presence = PostgresPresence(instance: instance)
        logins = LoginLimiters(
            failedByAccountAndAddress: byAccountAndAddress, failedByAccount: byAccount, failedByAddress: byAddress,
            registrationsByAddress: registrations, deviceLoginsByAddress: deviceLogins, failedRefreshesByAddress: failedRefreshes,
            knownAddresses: PostgresLoginAddresses(database: database))
        chatMessages = chat
        limiters = [byAccountAndAddress, byAccount, byAddress, registrations, deviceLogins, failedRefreshes, chat]
        self.directory = directory
    }

    /// Heartbeats, clean-up of dead instances and idle rows (see ``SharedTablesMaintenance``).
    public var maintenance: SharedTablesMaintenance { SharedTablesMaintenance(tables: self) }
}
