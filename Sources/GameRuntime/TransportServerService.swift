import Foundation
import Logging
import ServiceLifecycle

/// Runs a ``TransportServer`` on a thread of its own as a `Service`: graceful shutdown stops the
/// loop, which disconnects every client before `run()` returns.
///
/// `@unchecked Sendable`: the server and handler are touched only by the thread `run()` starts
/// (after it starts); other threads only set the atomic stop flag.
///
/// The loop is captured as a closure made in the (inlinable) initialiser, where the handler's
/// type is known: ServiceLifecycle calls `run()` through its `Service` protocol, and a generic
/// `run()` would leave the whole datagram and tick path unspecialised for the hosted game.
public final class TransportServerService: Service, @unchecked Sendable {
    @usableFromInline let serve: (StopSignal) -> Void
    let stop = StopSignal()
    let threadName: String
    let cpus: CPUList?

    /// - Parameters:
    ///   - threadName: the loop thread's name (15 bytes at most), which tools look for.
    ///   - cpus: where the loop thread may run (default: anywhere the process may).
    @inlinable public convenience init<Handler: TransportServerHandler>(
        server: TransportServer, handler: Handler, threadName: String = "arbiter-udp", cpus: CPUList? = nil
    ) {
        self.init(serving: { stop in server.run(handler: handler, until: stop) }, threadName: threadName, cpus: cpus)
    }

    @usableFromInline init(serving serve: @escaping (StopSignal) -> Void, threadName: String, cpus: CPUList?) {
        self.serve = serve
        self.threadName = threadName
        self.cpus = cpus
    }

    public func run() async throws {
        let stop = self.stop
        let (threadName, cpus) = (self.threadName, self.cpus)
        nonisolated(unsafe) let serve = {
            nameCurrentThread(threadName)
            cpus?.pinCurrentThread()
            self.serve(stop)
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        serve()
                        continuation.resume()
                    }
                    thread.name = threadName
                    thread.start()
                }
            } onCancel: {
                stop.stop()
            }
        } onGracefulShutdown: {
            stop.stop()
        }
    }
}
