import ArgumentParser
import Foundation
import GameRuntime
import NetProtocol

struct Connect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to a transport server with a token, send one payload per tick and count the echoes.",
        discussion: """
            Ends with the line `connected=<0|1> sent=N received=M state=<state>`, where state is the \
            client's state at the end of the run, before the clean disconnect. Exit status 0 only if it connected.
            """
    )

    @Option(help: "A 2048-byte connect token file (from `arbiter token` or any netcode.io backend).")
    var token: String

    @Option(help: "How long to stay connected.")
    var seconds: Double = 5

    @Option(name: .customLong("payload-bytes"), help: "Bytes per payload, 1...1200.")
    var payloadBytes: Int = 100

    @Option(help: "Ticks per second; one payload per tick while connected.")
    var rate: Double = 60

    func run() throws {
        guard seconds > 0, seconds <= 86_400 else { throw ValidationError("--seconds must be in (0, 86400]") }
        guard (1...Netcode.maxPayloadBytes).contains(payloadBytes) else { throw ValidationError("--payload-bytes must be 1...1200") }
        guard rate >= 1, rate <= 1000 else { throw ValidationError("--rate must be 1...1000") }
        guard let data = FileManager.default.contents(atPath: token) else { throw ValidationError("cannot read token file \(token)") }
        lineBufferedOutput()
        let stop = StopFlag()
        stopOnTermination(stop)
        let connectToken: ConnectToken
        do {
            connectToken = try ConnectToken(decoding: Array(data))
        } catch {
            print("connect: invalid token: \(error)")
            print("connected=0 sent=0 received=0 state=\(ClientState.invalidToken)")
            throw ExitCode(1)
        }
        let client = try TransportClient()
        let summary = runSession(client: client, token: connectToken, stop: stop.signal)
        print("connected=\(summary.everConnected ? 1 : 0) sent=\(summary.sent) received=\(summary.received) state=\(summary.finalState)")
        if !summary.everConnected { throw ExitCode(1) }
    }

    struct Summary {
        var everConnected = false
        var sent = 0
        var received = 0
        var finalState = ClientState.disconnected
    }

    func runSession(client: TransportClient, token: ConnectToken, stop: StopSignal) -> Summary {
        var summary = Summary()
        var payload = [UInt8](repeating: 0, count: payloadBytes)
        for index in payload.indices { payload[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
        let clock = client.clock
        client.connect(token: token)
        print("connect: connecting to \(token.serverAddresses[0]) (\(token.serverAddresses.count) server address(es) in the token)")
        let start = clock.monotonicSeconds()
        let end = start + seconds
        let interval = 1.0 / rate
        var nextTick = start
        while clock.monotonicSeconds() < end && !stop.isStopped {
            nextTick += interval
            client.poll(until: min(nextTick, end)) { _ in summary.received += 1 }
            for (from, to) in client.stateChanges { print("connect: state \(from) -> \(to)") }
            switch client.state {
            case .connected:
                if !summary.everConnected {
                    summary.everConnected = true
                    print("connect: connected client_index=\(client.endpoint.clientIndex) max_clients=\(client.endpoint.maxClients)")
                }
                let sequence = UInt64(summary.sent)
                withUnsafeBytes(of: sequence.littleEndian) { raw in
                    for index in 0..<min(8, payload.count) { payload[index] = raw[index] }
                }
                if client.send(payload) { summary.sent += 1 }
            case .sendingRequest, .sendingResponse:
                break
            default:
                summary.finalState = client.state
                return finish(client, summary: summary)
            }
        }
        // A short grace period collects echoes still in flight.
        if client.state == .connected {
            client.poll(until: clock.monotonicSeconds() + min(0.25, 10 * interval)) { _ in summary.received += 1 }
        }
        summary.finalState = client.state
        return finish(client, summary: summary)
    }

    private func finish(_ client: TransportClient, summary: Summary) -> Summary {
        if client.state == .connected { client.disconnect() }
        return summary
    }
}
