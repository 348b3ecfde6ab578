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

    @inlinable public convenience init<Handler: TransportServerHandler>(server: TransportServer, handler: Handler) {
        self.init(serving: { stop in server.run(handler: handler, until: stop) })
    }

    @usableFromInline init(serving serve: @escaping (StopSignal) -> Void) {
        self.serve = serve
    }

    public func run() async throws {
        let stop = self.stop
        nonisolated(unsafe) let serve = { self.serve(stop) }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        serve()
                        continuation.resume()
                    }
                    thread.name = "arbiter-udp"
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
