import MatchContract
import Metrics
import Synchronization

/// What the game server's WebSocket players did, for `GET /v1/server/stats` and `/metrics`.
/// Frame counters are atomics (bumped on the sockets' event loops and the game workers' threads);
/// opens and closes, which are rare, share a lock with the player count the gateway bounds.
final class PlayStreamCounters: Sendable {
    private struct Sessions {
        var open = 0
        var admitted: UInt64 = 0
        var closes = [UInt64](repeating: 0, count: PlayCloseCode.allCases.count)
    }

    private let sessions = Mutex(Sessions())
    let framesIn = Atomic<UInt64>(0)
    let framesOut = Atomic<UInt64>(0)
    let framesDropped = Atomic<UInt64>(0)
    private let closeCounters: [Counter] = PlayCloseCode.allCases.map {
        Counter(label: "arbiter_websocket_closes_total", dimensions: [("reason", $0.description)])
    }
    private let openGauge = Gauge(label: "arbiter_websocket_players")

    /// Takes one of `limit` player places; false when all are taken.
    func open(limit: Int) -> Bool {
        let open: Int? = sessions.withLock { sessions in
            guard sessions.open < limit else { return nil }
            sessions.open += 1
            return sessions.open
        }
        guard let open else { return false }
        openGauge.record(open)
        return true
    }

    func admitted() { sessions.withLock { $0.admitted &+= 1 } }

    /// A session ended for `code`; `heldPlace`: it had taken a player place with ``open(limit:)``.
    func closed(_ code: PlayCloseCode, heldPlace: Bool) {
        let index = PlayCloseCode.allCases.firstIndex(of: code) ?? 0
        let open = sessions.withLock { sessions in
            sessions.closes[index] &+= 1
            if heldPlace { sessions.open -= 1 }
            return sessions.open
        }
        closeCounters[index].increment()
        openGauge.record(open)
    }

    var report: ServerStatsReport.WebSocket {
        let (open, admitted, closes) = sessions.withLock { ($0.open, $0.admitted, $0.closes) }
        var named: [String: UInt64] = [:]
        for (code, count) in zip(PlayCloseCode.allCases, closes) where count > 0 { named[code.description] = count }
        return .init(
            open: open, admitted: admitted, closes: named, framesIn: framesIn.load(ordering: .relaxed),
            framesOut: framesOut.load(ordering: .relaxed), framesDropped: framesDropped.load(ordering: .relaxed))
    }
}
