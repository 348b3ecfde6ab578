import ArgumentParser
import Foundation
import GameRuntime
import NetProtocol

struct Connect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to a transport server with a token, send one payload per tick and count the echoes.",
        discussion: """
            Ends with the line `connected=<0|1> sent=N received=M state=<state>`, where state is the \
            client's state at the end of the run, before the clean disconnect. Exit status 0 only if it connected \
            and stayed connected until the time was up (or it was stopped); otherwise one line on standard \
            error says why (token expired or malformed, no answer, closed by the server).
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
        lineBufferedOutput()
        let stop = StopFlag()
        stopOnTermination(stop)
        let connectToken: ConnectToken
        switch TokenFile.load(token, nowUnix: SystemClock().unixSeconds()) {
        case .success(let loaded): connectToken = loaded
        case .failure(let problem):
            let exit = failure("connect", TokenFile.message(problem, path: token))
            print("connected=0 sent=0 received=0 state=\(problem.state)")
            throw exit
        }
        let client = try TransportClient()
        let summary = runSession(client: client, token: connectToken, stop: stop.signal)
        let problem = Self.problem(summary, server: connectToken.serverAddresses[0])
        let exit = problem.map { failure("connect", $0) }
        print("connected=\(summary.everConnected ? 1 : 0) sent=\(summary.sent) received=\(summary.received) state=\(summary.finalState)")
        if let exit { throw exit }
    }

    /// What went wrong, in words, or nil for a clean run (connected until the time was up or
    /// the run was stopped).
    static func problem(_ summary: Summary, server: NetAddress) -> String? {
        if summary.everConnected {
            let after = String(format: "%.2f", summary.connectedSeconds)
            switch summary.finalState {
            case .connected: return nil
            case .connectionTimedOut: return "the server at \(server) stopped answering after \(after) s connected"
            default:
                // Whether the game server's own packets arrived first (counted as received) is a
                // race, so the hint does not depend on it.
                let echoed = summary.received == 0 ? "nothing was echoed; " : ""
                return "the server at \(server) closed the connection after \(after) s (\(echoed)a game server, `arbiter serve`, expects the match protocol, so use `arbiter play`; `arbiter connect` is for `arbiter echo`)"
            }
        }
        switch summary.finalState {
        case .tokenExpired: return "the connect token expired before the server at \(server) answered (mint a new one)"
        case .denied: return "the server at \(server) refused the connection (it is full)"
        case .requestTimedOut, .responseTimedOut, .connectionTimedOut, .sendingRequest, .sendingResponse:
            return "no answer from the server at \(server) (is it running, and was the token made with its key and protocol id?)"
        default: return "could not connect to the server at \(server) (state \(summary.finalState))"
        }
    }

    struct Summary {
        var everConnected = false
        var sent = 0
        var received = 0
        var finalState = ClientState.disconnected
        /// Seconds from connecting to the end of the run.
        var connectedSeconds = 0.0
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
        var connectedAt = start
        while clock.monotonicSeconds() < end && !stop.isStopped {
            nextTick += interval
            client.poll(until: min(nextTick, end)) { _ in summary.received += 1 }
            for (from, to) in client.stateChanges { print("connect: state \(from) -> \(to)") }
            switch client.state {
            case .connected:
                if !summary.everConnected {
                    summary.everConnected = true
                    connectedAt = clock.monotonicSeconds()
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
                return finish(client, summary: summary, connectedAt: connectedAt)
            }
        }
        // A short grace period collects echoes still in flight.
        if client.state == .connected {
            client.poll(until: clock.monotonicSeconds() + min(0.25, 10 * interval)) { _ in summary.received += 1 }
        }
        summary.finalState = client.state
        return finish(client, summary: summary, connectedAt: connectedAt)
    }

    private func finish(_ client: TransportClient, summary: Summary, connectedAt: Double) -> Summary {
        var summary = summary
        if summary.everConnected { summary.connectedSeconds = client.clock.monotonicSeconds() - connectedAt }
        if client.state == .connected { client.disconnect() }
        return summary
    }
}
