import MatchContract
import ArbiterClient
import Foundation
import GameCore
import GameRuntime
import NetProtocol
import Testing

/// Clients with valid tokens attack a real game server over loopback UDP, each through a
/// different queue: finished messages held behind an id that never comes, reassemblies never
/// finished, echoes never acknowledged, and a packet flood. The server's accounted bytes stay
/// within each connection's budget and the shared pool, the holders are disconnected
/// `over_budget`, and an honest player in the same match keeps getting snapshots throughout.
/// Bounded by loop counts; the clock only paces the loop.
@Suite struct HostileClientTests {
    /// Numbers the packets a hostile client writes by hand (``RawChannelPacket``).
    struct PacketForger {
        var sequence: UInt16 = 0

        mutating func packet(acking ack: ChannelWire.Ack?, _ entries: [(channel: Int, id: UInt16?, fragment: (Int, Int)?, payload: [UInt8])]) -> [UInt8] {
            defer { sequence &+= 1 }
            return RawChannelPacket.encode(
                sequence: sequence, ack: ack,
                entries: entries.map { RawChannelPacket.Entry(channel: $0.channel, id: $0.id, fragment: $0.fragment.map { (index: $0.0, count: $0.1) }, payload: $0.payload) })
        }
    }

    enum Attack: CaseIterable {
        /// 8 KiB messages 1...63 on the ordered channel, id 0 never sent.
        case holdBackFirstID
        /// Every fragment but the last of 32 KiB messages on the channel the server never reads.
        case unfinishedReassemblies
        /// Reliable messages the server echoes, and never an acknowledgement of anything.
        case neverAcknowledge
        /// As many packets as the socket takes.
        case flood
    }

    /// The packets of one step of `attack`, the `step`-th.
    func packets(for attack: Attack, step: Int, forger: inout PacketForger) -> [[UInt8]] {
        let fragment = [UInt8](repeating: 0xEE, count: 384)
        switch attack {
        case .holdBackFirstID:
            // 22 fragments per 8 KiB message (8,192 = 21 * 384 + 128); three fragments a packet.
            let message = 1 + (step / 8) % 63
            let first = (step % 8) * 3
            let entries = (first..<min(first + 3, 22)).map { index in
                (channel: 0, id: UInt16?(UInt16(message)), fragment: (Int, Int)?((index, 22)),
                 payload: index == 21 ? [UInt8](repeating: 0xEE, count: 128) : fragment)
            }
            return entries.isEmpty ? [] : [forger.packet(acking: nil, entries)]
        case .unfinishedReassemblies:
            // 86 fragments per 32 KiB message; never the last one.
            let message = (step / 28) % 16
            let first = (step % 28) * 3
            let entries = (first..<min(first + 3, 85)).map { index in
                (channel: 1, id: UInt16?(UInt16(message)), fragment: (Int, Int)?((index, 86)), payload: fragment)
            }
            return entries.isEmpty ? [] : [forger.packet(acking: nil, entries)]
        case .neverAcknowledge:
            return [forger.packet(acking: nil, [(0, UInt16(truncatingIfNeeded: step), nil, [UInt8](repeating: 0x11, count: 300))])]
        case .flood:
            return (0..<20).map { _ in forger.packet(acking: nil, [(2, nil, nil, [0])]) }
        }
    }

    @Test func hostileConnectionsStayWithinTheirBudgetAndAnHonestPlayerKeepsPlaying() throws {
        var random = SystemRandomSource()
        let key = SymmetricKey(random: &random)
        let bind = NetAddress(ipv4: 127, 0, 0, 1, port: 0)
        let server = try TransportServer(
            configuration: ServerConfiguration(protocolID: 0x6B, privateKey: key, serverAddresses: [bind]), bind: bind, updateInterval: 0.002)
        let address = server.socket.localAddress
        let budget = 512 * 1024
        let pool = 4 * 1024 * 1024
        let limits = GameServerLimits(connectionBudgetBytes: budget, overBudgetGraceSeconds: 0.5, totalBudgetBytes: pool)
        let handler = GameServerHandler(rules: ArenaRules(), directory: MatchDirectory(), logger: .init(label: "test"), configuration: .init(limits: limits))
        let running = GameServerThread(server, handler)
        func token(_ id: UInt64) throws -> ConnectToken {
            var random = SystemRandomSource()
            return try ConnectToken.generate(
                publicAddresses: [address], expireSeconds: 60, timeoutSeconds: 5, clientID: id, protocolID: 0x6B, privateKey: key,
                userData: MatchTicket(matchID: 0, playerID: id, displayName: "p\(id)").encoded(), nowUnix: SystemClock().unixSeconds(),
                random: &random)
        }
        let honest = try GameClient(settings: MatchSettings(tickRate: 60))
        honest.connect(token: try token(1))
        let attacks = Attack.allCases
        let hostiles = try attacks.indices.map { index -> TransportClient in
            let client = try TransportClient()
            client.connect(token: try token(UInt64(100 + index)))
            return client
        }
        var forgers = attacks.map { _ in PacketForger() }
        let clock = SystemClock()
        var snapshotsDuringAttack: [UInt64] = []
        for tick in 0..<300 {
            let deadline = clock.monotonicSeconds() + 1.0 / 60
            if tick >= 60 {
                for (index, attack) in attacks.enumerated() where hostiles[index].state == .connected {
                    // Several steps a tick, so the queues fill within the test's bounded length.
                    for step in 0..<4 {
                        for packet in packets(for: attack, step: (tick - 60) * 4 + step, forger: &forgers[index]) { _ = hostiles[index].send(packet) }
                    }
                }
            }
            for client in hostiles { client.poll(until: clock.monotonicSeconds()) }
            honest.tick(input: ArenaRules.Input(moveX: tick % 120 < 60 ? 127 : -127), until: deadline)
            if tick % 60 == 59 { snapshotsDuringAttack.append(honest.simulation.snapshotsReceived) }
        }
        running.stop()

        #expect(handler.peakConnectionBytes <= budget, "one connection held \(handler.peakConnectionBytes) B, budget \(budget) B")
        #expect(handler.memoryPool.peakBytes <= pool)
        #expect(handler.faults["over_budget", default: 0] >= 2, "the holders are disconnected: \(handler.faults)")
        #expect(handler.rateLimitedPackets > 0, "the flood is cut to the peer's allowance")
        #expect(honest.state == .connected || honest.state == .disconnected)
        // Snapshots kept arriving every second, attack or not (about 60 a second).
        for (earlier, later) in zip(snapshotsDuringAttack, snapshotsDuringAttack.dropFirst()) {
            #expect(later - earlier > 30, "honest snapshots per second: \(snapshotsDuringAttack)")
        }
    }
}
