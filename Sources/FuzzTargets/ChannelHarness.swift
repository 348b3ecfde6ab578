import Foundation
import GameCore
import MatchContract
import NetProtocol

/// Channel packets into the match server, as one connected client of the default arena would
/// send them, with the server's ticks (snapshots, packets out) in between: the very code path
/// the game server runs for each datagram.
enum ChannelHarness {
    struct DiscardingOutput: MatchServerOutput {
        var disconnected = false
        mutating func send(_ packet: UnsafeRawBufferPointer, to client: Int) {}
        mutating func disconnect(_ client: Int) { disconnected = true }
    }

    static func run(_ input: FuzzInput) {
        // Small enough that the budget paths are reached within a short input.
        let limits = GameServerLimits(connectionBudgetBytes: 256 * 1024, overBudgetGraceSeconds: 0.5, packetsPerSecond: 1_000_000, packetBurst: 1_000_000)
        let server = MatchServer(rules: ArenaRules(), registry: LocalMatchRegistry(), configuration: .init(limits: limits))
        var output = DiscardingOutput()
        server.clientConnected(0, clientID: 1, ticket: nil, now: 0, output: &output)
        input.forEachFrame(limit: 512) { frame in
            guard !output.disconnected else { return }
            server.payloadReceived(0, bytes: frame.bytes, now: frame.time, output: &output)
            server.tick(now: frame.time, wallClock: Date(timeIntervalSince1970: 0), output: &output)
            if let connection = server.connection(of: 0) {
                precondition(connection.heldBytes <= limits.connectionBudgetBytes, "a connection held more than its budget")
            }
        }
    }

    /// Packets our own connection writes: small and large reliable messages, unreliable ones,
    /// acks, in a conversation with a peer.
    static func seeds() -> [[UInt8]] {
        let configuration = MatchChannel.connectionConfiguration()
        guard let client = try? ChannelConnection(configuration: configuration), let server = try? ChannelConnection(configuration: configuration)
        else { return [] }
        var conversation: [(time: Double, bytes: [UInt8])] = []
        var singles: [[UInt8]] = []
        for tick in 0..<40 {
            let time = Double(tick) / 60
            if tick % 5 == 0 { _ = try? client.send([UInt8](repeating: UInt8(tick), count: 40), on: MatchChannel.reliable) }
            if tick == 3 { _ = try? client.send([UInt8](repeating: 0xAB, count: 3000), on: MatchChannel.reliable) }
            if tick == 7 { _ = try? client.send([UInt8](repeating: 0xCD, count: 2000), on: MatchChannel.largeSnapshot) }
            _ = try? client.send([1, UInt8(tick), 0, 0, 0], on: MatchChannel.input)
            _ = try? client.send([2, UInt8(tick)], on: MatchChannel.snapshot)
            client.generatePackets(now: time) { packet in
                conversation.append((time, Array(packet)))
                if singles.count < 12 { singles.append(FuzzInput.encode([(0, Array(packet))])) }
                server.handlePacket(packet, now: time)
            }
            server.generatePackets(now: time) { packet in client.handlePacket(packet, now: time) }
        }
        return [FuzzInput.encode(conversation)] + singles
    }
}

/// Input messages into a running match, and snapshots into a client.
enum GameHarness {
    static let settings = MatchSettings(maxPlayers: 8, tickRate: 60, scoreLimit: 100, timeLimitSeconds: 600)

    static func inputs(_ input: FuzzInput) {
        let match = MatchSimulation(rules: ArenaRules(), settings: settings, seed: 1)
        match.join(1, name: "fuzz")
        match.join(2, name: "other")
        input.forEachFrame { frame in
            match.receive(Array(frame.bytes), from: frame.time.truncatingRemainder(dividingBy: 2) < 1 ? 1 : 2)
            match.step()
            _ = match.snapshot(for: 1)
        }
    }

    static func snapshots(_ input: FuzzInput) {
        let client = ClientSimulation(rules: ArenaRules(), settings: settings)
        input.forEachFrame { frame in
            _ = client.receiveSnapshot(Array(frame.bytes), now: frame.time)
            _ = MatchOverMessage.decode(Array(frame.bytes))
            _ = client.frame(now: frame.time)
            _ = client.makeInputMessage(ArenaRules.Input(moveX: 1), now: frame.time)
        }
    }

    /// A real match's snapshots as one client receives them (full, then deltas against what it
    /// acknowledged), and that client's input messages.
    static func conversation() -> (snapshots: [(time: Double, bytes: [UInt8])], inputs: [(time: Double, bytes: [UInt8])]) {
        let match = MatchSimulation(rules: ArenaRules(), settings: settings, seed: 3)
        for player in 1...4 as ClosedRange<UInt64> { match.join(player, name: "p\(player)") }
        let client = ClientSimulation(rules: ArenaRules(), settings: settings)
        var snapshots: [(time: Double, bytes: [UInt8])] = []
        var inputs: [(time: Double, bytes: [UInt8])] = []
        for tick in 1...90 {
            let time = Double(tick) / 60
            let message = client.makeInputMessage(ArenaRules.Input(moveX: Int8(tick % 3 - 1) * 100, buttons: tick % 20 == 0 ? 1 : 0), now: time)
            inputs.append((time, message))
            match.receive(message, from: 1)
            match.step()
            if let snapshot = match.snapshot(for: 1) {
                snapshots.append((time, snapshot))
                _ = client.receiveSnapshot(snapshot, now: time)
            }
        }
        return (snapshots, inputs)
    }

    static func inputSeeds() -> [[UInt8]] {
        let inputs = conversation().inputs
        return [FuzzInput.encode(inputs)] + inputs.prefix(8).map { FuzzInput.encode([(0, $0.bytes)]) }
    }

    static func snapshotSeeds() -> [[UInt8]] {
        let snapshots = conversation().snapshots
        return [FuzzInput.encode(snapshots)] + snapshots.prefix(4).map { FuzzInput.encode([(0, $0.bytes)]) }
    }
}
