extension ServerStatsReport {
    /// The game server's WebSocket players, counted since it started.
    public struct WebSocket: Codable, Sendable, Equatable {
        /// Sessions open now (admitted, or waiting for their game worker to check the token).
        public var open: Int
        /// Sessions a game worker admitted.
        public var admitted: UInt64
        /// Sessions ended, by ``PlayCloseCode`` name: the refusals (`bad_token`, `token_used`, …)
        /// beside UDP's drops, the broken bounds, and the ordinary ends.
        public var closes: [String: UInt64]
        /// Frames in from clients, out to them, and in but dropped because the game worker's
        /// queue was full.
        public var framesIn: UInt64
        public var framesOut: UInt64
        public var framesDropped: UInt64

        public init(open: Int, admitted: UInt64, closes: [String: UInt64], framesIn: UInt64, framesOut: UInt64, framesDropped: UInt64) {
            self.open = open
            self.admitted = admitted
            self.closes = closes
            self.framesIn = framesIn
            self.framesOut = framesOut
            self.framesDropped = framesDropped
        }
    }
}

extension ServerStatsReport {
    /// This report with the WebSocket players' counts.
    public func withWebSocket(_ stats: WebSocket) -> ServerStatsReport {
        var report = self
        report.websocket = stats
        return report
    }
}
