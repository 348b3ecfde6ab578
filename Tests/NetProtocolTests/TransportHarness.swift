import NetProtocol
import Testing

/// One server, any number of clients and a seeded link simulator, all in virtual time.
/// `step()` delivers what is due, runs every update, then moves time on by one tick.
final class TransportHarness: VirtualTimeHarness {
    static let protocolID: UInt64 = 0xA5B1_7E00_0000_0001
    let privateKey: SymmetricKey
    let serverAddress = NetAddress(ipv4: 127, 0, 0, 1, port: 40000)
    let server: ServerEndpoint
    let network: VirtualNetwork
    var link: LinkSimulator { network.link }
    var clients: [(endpoint: ClientEndpoint, address: NetAddress, sink: RecordingSink)] = []
    var serverSink = RecordingSink()
    var serverEvents: [RecordingSink.Event] = []
    var clientEvents: [[RecordingSink.Event]] = []
    var time: Double {
        get { network.time }
        set { network.time = newValue }
    }
    var tick: Double { network.tick }
    let unixEpoch: UInt64 = 1_700_000_000
    var random: SeededRandomSource

    init(
        maxClients: Int = 8, conditions: LinkConditions = .perfect, seed: UInt64 = 1, tick: Double = 1.0 / 60,
        serverAddresses: [NetAddress]? = nil
    ) throws {
        random = SeededRandomSource(seed: seed)
        privateKey = SymmetricKey(random: &random)
        network = VirtualNetwork(conditions: conditions, seed: seed &+ 1, tick: tick)
        server = try ServerEndpoint(
            configuration: ServerConfiguration(
                protocolID: Self.protocolID, privateKey: privateKey,
                serverAddresses: serverAddresses ?? [NetAddress(ipv4: 127, 0, 0, 1, port: 40000)], maxClients: maxClients),
            random: &random, now: .virtual(0, unixEpoch: unixEpoch))
    }

    var now: NetInstant { .virtual(time, unixEpoch: unixEpoch) }

    func makeToken(
        clientID: UInt64, expireSeconds: Int64 = 30, timeoutSeconds: Int32 = 5, addresses: [NetAddress]? = nil,
        key: SymmetricKey? = nil, protocolID: UInt64 = TransportHarness.protocolID, userData: [UInt8] = [1, 2, 3]
    ) throws -> ConnectToken {
        try ConnectToken.generate(
            publicAddresses: addresses ?? [serverAddress], expireSeconds: expireSeconds, timeoutSeconds: timeoutSeconds,
            clientID: clientID, protocolID: protocolID, privateKey: key ?? privateKey, userData: userData,
            nowUnix: now.unixSeconds, random: &random)
    }

    /// Adds a client at 10.0.0.N:5000+N and starts it connecting with `token`.
    @discardableResult
    func addClient(token: ConnectToken, address: NetAddress? = nil) -> Int {
        let index = clients.count
        let address = address ?? NetAddress(ipv4: 10, 0, 0, UInt8(truncatingIfNeeded: index + 1), port: UInt16(5000 + index))
        clients.append((ClientEndpoint(), address, RecordingSink()))
        clientEvents.append([])
        clients[index].endpoint.connect(token: token, now: now, sink: &clients[index].sink)
        flush()
        return index
    }

    /// Puts every recorded transmission on the link.
    func flush() {
        for transmission in serverSink.transmissions {
            network.send(transmission.bytes, from: serverAddress, to: transmission.to)
        }
        serverEvents += serverSink.drain().events
        for index in clients.indices {
            for transmission in clients[index].sink.transmissions {
                network.send(transmission.bytes, from: clients[index].address, to: transmission.to)
            }
            clientEvents[index] += clients[index].sink.drain().events
        }
    }

    /// Delivers due datagrams, updates everyone, advances time by one tick.
    func step() {
        network.deliverDue { datagram in
            if datagram.to == serverAddress || server.configuration.serverAddresses.contains(datagram.to) {
                server.handle(datagram.bytes, from: datagram.from, now: now, sink: &serverSink)
            } else if let index = clients.firstIndex(where: { $0.address == datagram.to }) {
                clients[index].endpoint.handle(datagram.bytes, from: datagram.from, now: now, sink: &clients[index].sink)
            }
        }
        server.update(now: now, sink: &serverSink)
        for index in clients.indices {
            clients[index].endpoint.update(now: now, sink: &clients[index].sink)
        }
        flush()
        network.advance()
    }

    func state(_ index: Int) -> ClientState { clients[index].endpoint.state }

    /// Sends a raw datagram to the server from `address`, straight away (no link).
    func inject(_ bytes: [UInt8], from address: NetAddress) {
        server.handle(bytes, from: address, now: now, sink: &serverSink)
        flush()
    }
}
