import ServiceLifecycle

/// Runs `sweep` at once and then every `interval` until the service group shuts down (or the
/// task is cancelled): the loop of every janitor. `sweep` handles its own errors, so one failed
/// round does not end the loop.
func sweepPeriodically(every interval: Duration, _ sweep: @escaping @Sendable () async -> Void) async {
    do {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweep()
                try await Task.sleep(for: interval)
            }
        }
    } catch {
        // Cancelled: shutting down.
    }
}
