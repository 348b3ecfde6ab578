import Foundation
import HummingbirdWSClient
import Logging
import Synchronization

/// Bots chatting in their game's channel over the control port's WebSocket relay.
final class ChatBots: Sendable {
    let sent = Atomic<Int>(0)
    let received = Atomic<Int>(0)
    let failures = Atomic<Int>(0)

    /// Runs one chat connection per bot until `end`, each sending a message every `interval`.
    func run(control: String, sessions: [String?], games: [Int?], interval: Double, end: Date) async {
        guard interval.isFinite, let url = URL(string: control), let host = url.host else { return }
        let scheme = url.scheme == "https" ? "wss" : "ws"
        let port = url.port.map { ":\($0)" } ?? ""
        await withTaskGroup(of: Void.self) { group in
            for (bot, session) in sessions.enumerated() {
                guard let session, let game = games[bot] else { continue }
                group.addTask {
                    // Spread the connections and the first messages over the interval.
                    try? await Task.sleep(for: .seconds(Double(bot % 50) / 50 * min(interval, 5)))
                    do {
                        try await WebSocketClient.connect(
                            url: "\(scheme)://\(host)\(port)/v1/chat?token=\(session)", logger: Logger(label: "botswarm.chat")
                        ) { inbound, outbound, _ in
                            try await outbound.write(.text("{\"type\":\"join\",\"channel\":\"game:\(game)\"}"))
                            try await withThrowingTaskGroup(of: Void.self) { tasks in
                                tasks.addTask {
                                    for try await message in inbound.messages(maxSize: 1 << 16) {
                                        if case .text(let text) = message, text.contains("\"type\":\"message\"") {
                                            self.received.add(1, ordering: .relaxed)
                                        }
                                    }
                                }
                                tasks.addTask {
                                    var count = 0
                                    while Date().addingTimeInterval(interval) < end {
                                        try await Task.sleep(for: .seconds(interval))
                                        count += 1
                                        try await outbound.write(.text("{\"type\":\"send\",\"channel\":\"game:\(game)\",\"body\":\"bot \(bot) says hi #\(count)\"}"))
                                        self.sent.add(1, ordering: .relaxed)
                                    }
                                    // Let the last messages arrive, then leave.
                                    try await Task.sleep(for: .seconds(1))
                                    try await outbound.close(.normalClosure, reason: nil)
                                }
                                try await tasks.next()
                                tasks.cancelAll()
                            }
                        }
                    } catch {
                        self.failures.add(1, ordering: .relaxed)
                    }
                }
            }
        }
    }
}
