import Foundation

/// Runs `work(worker)` on `count` threads of its own; the task completes when all have returned.
/// Bots are driven from plain threads (not the concurrency pool), many to a thread, on their own
/// tick clock.
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
