import Foundation
import GameCore
import GameRuntime

/// A game server running on a thread of its own for a test, until `stop()`.
final class GameServerThread {
    private let signal = StopSignal()
    private let done = DispatchSemaphore(value: 0)

    init<Rules: GameRules>(_ server: TransportServer, _ handler: GameServerHandler<Rules>) {
        nonisolated(unsafe) let owned = (server, handler)
        let (signal, done) = (signal, done)
        Thread {
            owned.0.run(handler: owned.1, until: signal)
            done.signal()
        }.start()
    }

    /// Stops the loop (every client gets disconnect packets) and waits for it to end.
    func stop() {
        signal.stop()
        done.wait()
    }
}
