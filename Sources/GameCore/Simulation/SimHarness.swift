import NetProtocol

/// A server match and any number of clients in virtual time, joined by the real channel layer
/// over the seeded ``LinkSimulator``: inputs go up on the unreliable channel, snapshots come down
/// on the unreliable-sequenced one (or the reliable-unordered one when a full snapshot is larger
/// than a packet). Shared by tests, soaks and benchmarks.
public final class SimHarness<Rules: GameRules> {
    public static var inputChannel: Int { 2 }
    public static var snapshotChannel: Int { 3 }
    public static var largeSnapshotChannel: Int { 1 }

    public let server: MatchSimulation<Rules>
    public let link: LinkSimulator
    public private(set) var time = 0.0
    public let tickSeconds: Double
    /// Each client's input for the coming tick: (player, the client's current frame) -> input.
    public var policy: (PlayerID, ClientSimulation<Rules>) -> Rules.Input

    public struct Client {
        public let player: PlayerID
        public let simulation: ClientSimulation<Rules>
        let connection: ChannelConnection
        let address: NetAddress
        var serverSide: ChannelConnection
    }

    public private(set) var clients: [PlayerID: Client] = [:]
    private let serverAddress = NetAddress(ipv4: 10, 0, 0, 1, port: 40000)
    private let configuration: ConnectionConfiguration
    public private(set) var snapshotBytes: [PlayerID: Int] = [:]
    public private(set) var snapshotsSent = 0

    public init(rules: Rules, settings: MatchSettings, conditions: LinkConditions = .perfect, seed: UInt64 = 1,
                policy: @escaping (PlayerID, ClientSimulation<Rules>) -> Rules.Input) {
        server = MatchSimulation(rules: rules, settings: settings, seed: seed)
        link = LinkSimulator(conditions: conditions, seed: seed)
        tickSeconds = 1 / Double(settings.tickRate)
        self.policy = policy
        var configuration = ConnectionConfiguration()
        configuration.budgetBytesPerTick = 64 * 1024
        self.configuration = configuration
    }

    /// Adds a client that joins the match at once.
    public func addClient(_ player: PlayerID, name: String) throws {
        let address = NetAddress(ipv4: 10, 1, UInt8(truncatingIfNeeded: player >> 8), UInt8(truncatingIfNeeded: player), port: 5000)
        clients[player] = Client(
            player: player, simulation: ClientSimulation(rules: server.rules, settings: server.settings),
            connection: try ChannelConnection(configuration: configuration), address: address,
            serverSide: try ChannelConnection(configuration: configuration))
        server.join(player, name: name)
    }

    /// One tick: deliveries, client inputs, a server step, snapshots, packets out.
    public func step() {
        for datagram in link.receive(now: time) {
            if datagram.to == serverAddress, let player = clients.first(where: { $0.value.address == datagram.from })?.key {
                guard let client = clients[player] else { continue }
                client.serverSide.handlePacket(datagram.bytes, now: time)
                while let message = client.serverSide.receive(on: Self.inputChannel) { server.receive(message, from: player) }
            } else if let client = clients.values.first(where: { $0.address == datagram.to }) {
                client.connection.handlePacket(datagram.bytes, now: time)
                for channel in [Self.largeSnapshotChannel, Self.snapshotChannel] {
                    while let message = client.connection.receive(on: channel) { client.simulation.receiveSnapshot(message, now: time) }
                }
            }
        }
        for player in clients.keys.sorted() {
            guard let client = clients[player] else { continue }
            let input = policy(player, client.simulation)
            _ = try? client.connection.send(client.simulation.makeInputMessage(input, now: time), on: Self.inputChannel)
        }
        server.step()
        for player in clients.keys.sorted() {
            guard let client = clients[player], let snapshot = server.snapshot(for: player) else { continue }
            let channel = snapshot.count <= configuration.maxUnreliableMessageBytes ? Self.snapshotChannel : Self.largeSnapshotChannel
            _ = try? client.serverSide.send(snapshot, on: channel)
            snapshotBytes[player, default: 0] += snapshot.count
            snapshotsSent += 1
        }
        for client in clients.values {
            client.connection.generatePackets(now: time) { link.send(Array($0), from: client.address, to: serverAddress, now: time) }
            client.serverSide.generatePackets(now: time) { link.send(Array($0), from: serverAddress, to: client.address, now: time) }
        }
        time += tickSeconds
    }

    public func run(ticks: Int) {
        for _ in 0..<ticks { step() }
    }
}
