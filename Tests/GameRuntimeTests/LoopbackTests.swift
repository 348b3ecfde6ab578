import Foundation
import GameRuntime
import NetProtocol
import Testing

/// Real sockets on loopback, port 0, no sleeps: the client's polls carry deadlines and every
/// loop is bounded.
@Suite struct LoopbackTests {
    final class EchoHandler: TransportServerHandler {
        let stop = StopSignal()

        func clientConnected(_ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress) {}

        func payloadReceived(_ context: inout TransportServer.Context, clientIndex: Int, bytes: UnsafeRawBufferPointer) {
            context.send(bytes, to: clientIndex)
        }

        func clientDisconnected(
            _ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress, reason: DisconnectReason
        ) {}
    }

    @Test(arguments: ["127.0.0.1:0", "[::1]:0"])
    func clientAndServerExchangePayloadsOverRealSockets(bindText: String) throws {
        let bind = try #require(NetAddress(bindText))
        var random = SystemRandomSource()
        let key = SymmetricKey(random: &random)
        let server = try TransportServer(
            configuration: ServerConfiguration(protocolID: 0xAB, privateKey: key, serverAddresses: [bind], maxClients: 16),
            bind: bind)
        let serverAddress = server.socket.localAddress
        #expect(serverAddress.port != 0)
        let handler = EchoHandler()
        let stop = handler.stop
        let done = DispatchSemaphore(value: 0)
        // The server thread owns server and handler from here on; this thread only reads the
        // immutable socket address above and sets the (atomic) stop flag below.
        nonisolated(unsafe) let owned = (server, handler)
        let thread = Thread {
            owned.0.run(handler: owned.1, until: owned.1.stop)
            done.signal()
        }
        thread.start()
        defer {
            stop.stop()
            done.wait()
        }

        let token = try ConnectToken.generate(
            publicAddresses: [serverAddress], expireSeconds: 60, timeoutSeconds: 5, clientID: 77, protocolID: 0xAB,
            privateKey: key, nowUnix: SystemClock().unixSeconds(), random: &random)
        let client = try TransportClient()
        client.connect(token: token)
        var polls = 0
        while client.state.isConnecting && polls < 500 {
            client.poll(until: client.clock.monotonicSeconds() + 0.01)
            polls += 1
        }
        #expect(client.state == .connected)

        var echoes: [[UInt8]] = []
        for round in 0..<50 {
            let payload = [UInt8](repeating: UInt8(round), count: 1 + round * 20)
            #expect(client.send(payload))
        }
        polls = 0
        while echoes.count < 50 && polls < 500 {
            client.poll(until: client.clock.monotonicSeconds() + 0.01) { echoes.append(Array($0)) }
            polls += 1
        }
        #expect(echoes.count == 50)
        #expect(echoes.first == [0])
        #expect(echoes.last == [UInt8](repeating: 49, count: 1 + 49 * 20))

        client.disconnect()
        #expect(client.state == .disconnected)
    }

    @Test func bindingAnAddressInUseIsATypedError() throws {
        let first = try UDPSocket(bind: NetAddress(ipv4: 127, 0, 0, 1, port: 0))
        #expect(throws: UDPSocketError.self) {
            _ = try UDPSocket(bind: first.localAddress)
        }
    }
}
