import Foundation
import GameRuntime
import NetProtocol

/// A real echo server on loopback (port 0, own thread) and N real clients.
final class LoopbackRig: @unchecked Sendable {
    static let shared = LoopbackRig()

    final class Echo: TransportServerHandler {
        func clientConnected(_ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress) {}
        func payloadReceived(_ context: inout TransportServer.Context, clientIndex: Int, bytes: UnsafeRawBufferPointer) {
            context.send(bytes, to: clientIndex)
        }
        func clientDisconnected(_ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress, reason: DisconnectReason) {}
    }

    private var clients: [TransportClient] = []
    private var stopSignal = StopSignal()
    private var done = DispatchSemaphore(value: 0)
    private let payload = [UInt8](repeating: 3, count: 60)
    private var pending = 0

    func start(clients count: Int) throws {
        var random = SystemRandomSource()
        let key = SymmetricKey(random: &random)
        let bind = NetAddress(ipv4: 127, 0, 0, 1, port: 0)
        let server = try TransportServer(
            configuration: ServerConfiguration(protocolID: 0xBE9C, privateKey: key, serverAddresses: [bind], maxClients: count),
            bind: bind, updateInterval: 0.01)
        let address = server.socket.localAddress
        stopSignal = StopSignal()
        done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let owned = server
        let stop = self.stopSignal
        let done = self.done
        Thread {
            // The server thread's own CPU time, per datagram it handled, is the figure that
            // matters for capacity; the benchmark's process CPU also counts the 64 clients.
            let cpuStart = LoopbackRig.threadCPUSeconds()
            owned.run(handler: Echo(), until: stop)
            let cpu = LoopbackRig.threadCPUSeconds() - cpuStart
            let counters = owned.endpoint.counters
            let datagrams = counters.datagramsReceived + counters.datagramsSent
            let perDatagram = cpu / Double(max(1, datagrams)) * 1_000_000
            let line = "loopback server: \(datagrams) datagrams in and out, \(String(format: "%.3f", cpu)) s CPU on the server thread, \(String(format: "%.2f", perDatagram)) µs CPU per datagram\n"
            FileHandle.standardError.write(Data(line.utf8))
            done.signal()
        }.start()
        clients = try (0..<count).map { index in
            let client = try TransportClient(bind: NetAddress(ipv4: 127, 0, 0, 1, port: 0))
            client.connect(token: try ConnectToken.generate(
                publicAddresses: [address], expireSeconds: 60, timeoutSeconds: 10, clientID: UInt64(index + 1),
                protocolID: 0xBE9C, privateKey: key, nowUnix: SystemClock().unixSeconds(), random: &random))
            return client
        }
        for _ in 0..<500 where clients.contains(where: { $0.state != .connected }) {
            for client in clients { client.poll(until: 0) }
            Thread.sleep(forTimeInterval: 0.002)
        }
        guard clients.allSatisfy({ $0.state == .connected }) else { throw RigError.notConnected }
    }

    enum RigError: Error { case notConnected }

    private static func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1_000_000_000
    }

    func echoRound() {
        for client in clients { client.send(payload) }
        pending = clients.count
        var spins = 0
        while pending > 0 && spins < 100_000 {
            for client in clients { client.poll(until: 0) { _ in self.pending -= 1 } }
            spins += 1
        }
    }

    func stop() {
        for client in clients { client.disconnect() }
        clients = []
        stopSignal.stop()
        done.wait()
    }
}
