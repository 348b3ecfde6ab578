import ArgumentParser
import NetProtocol

struct Echo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a transport server that echoes every payload to its sender (a netcode.io 1.02 conformance target).",
        discussion: """
            Prints one line when ready and one per connect and disconnect (with the reason). \
            Stops on SIGINT/SIGTERM or after --seconds, disconnecting every client cleanly.
            """
    )

    @Option(help: "UDP address to bind, HOST:PORT or [IPv6]:PORT.")
    var udp: String

    @Option(name: .customLong("key-hex"), help: "The 32-byte private token key as 64 hex digits.")
    var keyHex: String

    @Option(name: .customLong("protocol-id"), help: "Protocol id, decimal or 0x-hex.")
    var protocolID: String

    @Option(name: .customLong("public-address"), help: "An address tokens may name for this server besides --udp (repeatable), e.g. the public address of a server bound to 0.0.0.0.")
    var publicAddresses: [String] = []

    @Option(name: .customLong("max-clients"), help: "Most clients connected at once.")
    var maxClients: Int = 256

    @Option(help: "Stop after this many seconds (default: run until interrupted).")
    var seconds: Double?

    @Option(name: .customLong("reply-bytes"), help: "Answer every payload with this many bytes (the payload, zero-padded or cut) instead of the payload itself: shapes the traffic like a game's (small inputs up, larger snapshots down).")
    var replyBytes: Int?

    func run() throws {
        let bind = try parseAddress(udp, option: "--udp")
        let key = try parseKey(hex: keyHex)
        let id = try parseProtocolID(protocolID)
        let extra = try publicAddresses.map { try parseAddress($0, option: "--public-address") }
        guard (1...1_000_000).contains(maxClients) else { throw ValidationError("--max-clients must be 1...1000000") }
        if let seconds, !(seconds > 0) { throw ValidationError("--seconds must be positive") }
        if let replyBytes, !(1...Netcode.maxPayloadBytes).contains(replyBytes) {
            throw ValidationError("--reply-bytes must be 1...\(Netcode.maxPayloadBytes)")
        }
        let configuration = ServerConfiguration(
            protocolID: id, privateKey: key, serverAddresses: [bind] + extra, maxClients: maxClients)
        try runEchoServer(name: "echo", configuration: configuration, bind: bind, seconds: seconds, replyBytes: replyBytes)
    }
}
