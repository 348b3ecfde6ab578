import Foundation
import Logging

/// How the control port's services behave, whichever store and shared state they run on.
public struct ControlPlaneSettings: Sendable {
    /// Argon2id cost; `.interactive` in production.
    public var passwordCost: PasswordHasher.Cost
    /// Hashes in flight at once (each holds the cost's memory).
    public var maxConcurrentHashes: Int
    /// Seconds a session (access) token lives.
    public var sessionLifetime: TimeInterval
    /// Seconds a refresh token lives (each rotation issues a fresh one).
    public var refreshLifetime: TimeInterval
    public var observability: Observability
    public var matchLimits: MatchLimits
    /// Rate limits, queue bounds and per-account caps.
    public var limits: ControlPortLimits
    public var logger: Logger
    /// The browser pages (`/play`, `/console`, `/js/…`); none by default.
    public var web: WebPages
    /// Usernames of the operators (`arbiter serve --operator`), whatever their case: they may
    /// call `/v1/console/…`.
    public var operators: Set<String>
    /// The wall clock sessions expire by (tests step it).
    public var now: @Sendable () -> Date

    public init(
        passwordCost: PasswordHasher.Cost = .interactive, maxConcurrentHashes: Int = 2,
        sessionLifetime: TimeInterval = 7 * 24 * 3600, refreshLifetime: TimeInterval = 30 * 24 * 3600,
        observability: Observability = Observability(), matchLimits: MatchLimits = MatchLimits(),
        limits: ControlPortLimits = ControlPortLimits(), logger: Logger = Logger(label: "arbiter.control"),
        web: WebPages = .none, operators: Set<String> = [],
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.passwordCost = passwordCost
        self.maxConcurrentHashes = maxConcurrentHashes
        self.sessionLifetime = sessionLifetime
        self.refreshLifetime = refreshLifetime
        self.observability = observability
        self.matchLimits = matchLimits
        self.limits = limits
        self.logger = logger
        self.web = web
        self.operators = operators
        self.now = now
    }
}
