import Foundation
import MatchContract
import Hummingbird
import Metrics

/// What the control port reports about the whole server, supplied by the executable (the control
/// port knows nothing of the game server's internals).
public struct Observability: Sendable {
    /// The Prometheus text exposition of every metric (empty when no backend is set up).
    public var metricsText: @Sendable () -> String
    /// The game server's essentials for `GET /v1/server/stats`, if there is one in process.
    public var serverStats: @Sendable () -> ServerStatsReport?
    /// When set, `GET /metrics` answers only requests with `Authorization: Bearer` this token.
    public var metricsToken: String?
    /// When set, every response names this process in `X-Arbiter-Instance` (see
    /// ``InstanceHeaderMiddleware``).
    public var instanceID: String?

    public init(
        metricsText: @escaping @Sendable () -> String = { "" }, serverStats: @escaping @Sendable () -> ServerStatsReport? = { nil },
        metricsToken: String? = nil, instanceID: String? = nil
    ) {
        self.metricsText = metricsText
        self.serverStats = serverStats
        self.metricsToken = metricsToken
        self.instanceID = instanceID
    }
}

extension ServerStatsReport: ResponseEncodable {}

/// Counters the control port keeps (created once; bounded labels).
enum ControlPlaneMetrics {
    static let loginSuccesses = Counter(label: "arbiter_logins_total", dimensions: [("result", "success")])
    static let loginFailures = Counter(label: "arbiter_logins_total", dimensions: [("result", "failure")])
    static let registrations = Counter(label: "arbiter_registrations_total")
    static let refreshes = Counter(label: "arbiter_session_refreshes_total", dimensions: [("result", "success")])
    static let refreshFailures = Counter(label: "arbiter_session_refreshes_total", dimensions: [("result", "failure")])
    static let chatMessages = Counter(label: "arbiter_chat_messages_total")
}
