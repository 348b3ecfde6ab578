import Foundation
import GameRuntime

/// Runs `work(worker)` on `count` threads of its own; the task completes when all have returned.
/// Bots are driven from plain threads (not the concurrency pool), many to a thread, on their own
/// tick clock.
/// Paces a bot thread at a fixed rate on absolute deadlines; after a stall of more than half a
/// second it starts again from now rather than rushing to catch up.
struct TickPacer {
    private let clock = SystemClock()
    private let interval: Double
    private var next: Double

    init(rate: Double, start: Double) {
        interval = 1 / rate
        next = start
    }

    mutating func waitForNextTick() {
        next += interval
        let wait = next - clock.monotonicSeconds()
        if wait > 0 {
            Thread.sleep(forTimeInterval: wait)
        } else if wait < -0.5 {
            next = clock.monotonicSeconds()
        }
    }
}

func onWorkerThreads(_ count: Int, name: String, _ work: @escaping @Sendable (Int) -> Void) -> Task<Void, Never> {
    let semaphores = (0..<count).map { _ in DispatchSemaphore(value: 0) }
    for worker in 0..<count {
        let semaphore = semaphores[worker]
        let thread = Thread {
            work(worker)
            semaphore.signal()
        }
        thread.name = "\(name)-\(worker)"
        thread.start()
    }
    return Task.detached {
        for semaphore in semaphores {
            await withCheckedContinuation { continuation in DispatchQueue.global().async { semaphore.wait(); continuation.resume() } }
        }
    }
}
