import Foundation
import Logging
import ServiceLifecycle

/// Runs a ``TransportServer`` on a thread of its own as a `Service`: graceful shutdown stops the
/// loop, which disconnects every client before `run()` returns.
///
/// `@unchecked Sendable`: the server and handler are touched only by the thread `run()` starts
/// (after it starts); other threads only set the atomic stop flag.
public final class TransportServerService<Handler: TransportServerHandler>: Service, @unchecked Sendable {
    let server: TransportServer
    let handler: Handler
    let stop = StopSignal()

    public init(server: TransportServer, handler: Handler) {
        self.server = server
        self.handler = handler
    }

    public func run() async throws {
        let stop = self.stop
        let (server, handler) = (self.server, self.handler)
        // Type-erased here, so the thread's closure captures no generic type.
        nonisolated(unsafe) let serve: () -> Void = { server.run(handler: handler, until: stop) }
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
