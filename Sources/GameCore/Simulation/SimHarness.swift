import Foundation
import MatchContract
import NetProtocol

/// The production match server and any number of clients in virtual time, joined by the real
/// channel layer (the production ``MatchChannel`` configuration) over the seeded
/// ``LinkSimulator``. Clients join one registered match through the server's own admission, as
/// a connect token's ticket would bring them. Shared by tests, soaks and benchmarks.
///
/// Only the transport (netcode encryption and handshake) is left out: a client is "connected"
/// the moment it is added, and the harness's packets are the channel layer's.
public final class SimHarness<Rules: GameRules>: VirtualTimeHarness {
    public let server: MatchServer<Rules>
    public let registry: LocalMatchRegistry
    /// The match every client joins.
    public let matchID: UInt64
    public let settings: MatchSettings
    public let network: VirtualNetwork
    public var link: LinkSimulator { network.link }
    public var time: Double { network.time }
    public var tickSeconds: Double { network.tick }
    /// The wall clock the reports carry: virtual time after this instant.
    public let epoch = Date(timeIntervalSince1970: 1_800_000_000)
    /// Each client's input for the coming tick: (player, the client's current frame) -> input.
    public var policy: (PlayerID, ClientSimulation<Rules>) -> Rules.Input
    /// Everything the server reported, in order.
    public private(set) var events: [MatchServerEvent] = []

    public struct Client {
        public let player: PlayerID
        public let session: MatchClientSession<Rules>
        public var simulation: ClientSimulation<Rules> { session.simulation }
        /// The server's index for this client (what a transport would assign).
        public let index: Int
        let address: NetAddress
        /// Still connected as far as the server knows.
        public internal(set) var connected = true
    }

    public private(set) var clients: [PlayerID: Client] = [:]
    private var byIndex: [Int: PlayerID] = [:]
    private let serverAddress = NetAddress(ipv4: 10, 0, 0, 1, port: 40000)

    /// Delivers the server's output onto the simulated link.
    struct LinkOutput: MatchServerOutput {
        let harness: SimHarness

        func send(_ packet: UnsafeRawBufferPointer, to client: Int) { harness.serverSent(packet, to: client) }
        func disconnect(_ client: Int) { harness.serverDropped(client) }
    }

    public init(rules: Rules, settings: MatchSettings, conditions: LinkConditions = .perfect, seed: UInt64 = 1,
                configuration: MatchServer<Rules>.Configuration = .init(),
                policy: @escaping (PlayerID, ClientSimulation<Rules>) -> Rules.Input) {
        registry = LocalMatchRegistry(book: MatchBook(order: Rules.standingsOrder))
        var random = SeededRandomSource(seed: seed)
        matchID = registry.create(settings: settings, now: 0, random: &random)
        server = MatchServer(rules: rules, registry: registry, configuration: configuration)
        self.settings = settings
        network = VirtualNetwork(conditions: conditions, seed: seed, tick: 1 / Double(settings.tickRate))
        self.policy = policy
    }

    /// The harness's match on the server (nil once it ended).
    public var match: MatchSimulation<Rules>? { server.simulation(of: matchID) }

    /// Adds a client and connects it with a ticket for the harness's match (or `ticket`). Returns
    /// whether the server admitted it.
    @discardableResult
    public func addClient(_ player: PlayerID, name: String, ticket: MatchTicket? = nil) throws -> Bool {
        let index = byIndex.count
        let address = NetAddress(ipv4: 10, 1, UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index), port: 5000)
        let session = try MatchClientSession(rules: server.rules, settings: settings)
        clients[player] = Client(player: player, session: session, index: index, address: address)
        byIndex[index] = player
        var output = LinkOutput(harness: self)
        server.clientConnected(
            index, clientID: player, ticket: ticket ?? MatchTicket(matchID: matchID, playerID: player, displayName: name), now: time,
            output: &output)
        collectEvents()
        return clients[player]?.connected ?? false
    }

    /// The client leaves (as if its transport timed out or it disconnected).
    public func removeClient(_ player: PlayerID, reason: DisconnectReason = .peerDisconnected) {
        guard let client = clients[player], client.connected else { return }
        clients[player]?.connected = false
        server.clientDisconnected(client.index, reason: reason, now: time)
        collectEvents()
    }

    /// One tick: deliveries, client inputs, a server pass, packets out.
    public func step() {
        var output = LinkOutput(harness: self)
        network.deliverDue { datagram in
            if datagram.to == serverAddress {
                guard let client = clients.values.first(where: { $0.address == datagram.from }), client.connected else { return }
                datagram.bytes.withUnsafeBytes { server.payloadReceived(client.index, bytes: $0, now: time, output: &output) }
            } else if let client = clients.values.first(where: { $0.address == datagram.to }) {
                // What the server sent before dropping a client still arrives: a transport
                // delivers the packets ahead of its disconnect.
                datagram.bytes.withUnsafeBytes { client.session.handlePacket($0, now: time) }
                client.session.deliverMessages(now: time)
            }
        }
        for player in clients.keys.sorted() {
            guard let client = clients[player], client.connected else { continue }
            client.session.sendInput(policy(player, client.simulation), now: time)
        }
        server.tick(now: time, wallClock: epoch.addingTimeInterval(time), output: &output)
        for player in clients.keys.sorted() {
            guard let client = clients[player], client.connected else { continue }
            client.session.generatePackets(now: time) { network.send($0, from: client.address, to: serverAddress) }
        }
        collectEvents()
        network.advance()
    }

    /// The server is shutting down: every client is dropped, and every match abandoned.
    public func stopServer() {
        for player in clients.keys.sorted() { removeClient(player, reason: .serverShutdown) }
        server.stop(now: time, wallClock: epoch.addingTimeInterval(time))
        collectEvents()
    }

    private func collectEvents() { events += server.takeEvents() }

    fileprivate func serverSent(_ packet: UnsafeRawBufferPointer, to index: Int) {
        guard let player = byIndex[index], let client = clients[player] else { return }
        network.send(packet, from: serverAddress, to: client.address)
    }

    fileprivate func serverDropped(_ index: Int) {
        guard let player = byIndex[index] else { return }
        clients[player]?.connected = false
    }
}
