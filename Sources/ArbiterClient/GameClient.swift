import Foundation
import GameCore
import GameRuntime
import NetProtocol

/// The client SDK: a UDP connection (netcode transport), a channel connection on top, and the
/// predicting, interpolating client simulation. Single-threaded: call ``tick(input:)`` once per
/// client tick (at the match's tick rate) and ``frame()`` whenever you draw.
public final class GameClient {
    public typealias Rules = ArenaRules

    public let transport: TransportClient
    public let channels: ChannelConnection
    public let simulation: ClientSimulation<Rules>
    public let settings: MatchSettings
    private let clock: SystemClock
    public private(set) var spectating = false

    // Measurements for load tests: when each input went out, and the gaps between snapshots.
    private var inputSentAt: [UInt32: Double] = [:]
    private var lastSnapshotAt: Double?
    private var lastAppliedSeen: UInt32 = 0
    public private(set) var snapshotGaps: [Double] = []
    public private(set) var inputAckLatencies: [Double] = []
    public private(set) var reliableSent = 0
    public private(set) var reliableReceived = 0

    /// - Parameter settings: the match's settings (tick rate and map must match the server's).
    public init(settings: MatchSettings = MatchSettings(), bind: NetAddress? = nil) throws {
        transport = try TransportClient(bind: bind)
        channels = try ChannelConnection(configuration: GameServerHandler.connectionConfiguration())
        simulation = ClientSimulation(rules: ArenaRules(), settings: settings)
        self.settings = settings
        clock = transport.clock
    }

    public func connect(token: ConnectToken) { transport.connect(token: token) }

    public var state: ClientState { transport.state }

    /// Asks the server for spectator mode: no player of our own, the whole world in view.
    public func spectate() {
        spectating = true
        _ = try? channels.send([GameMessages.spectate], on: SimHarness<Rules>.inputChannel)
    }

    /// One client tick: receive what arrived (until `deadline`, monotonic seconds), hand
    /// snapshots to the simulation, send this tick's input and whatever the channels owe.
    public func tick(input: Rules.Input, until deadline: Double) {
        transport.poll(until: deadline) { bytes in
            self.channels.handlePacket(bytes, now: self.clock.monotonicSeconds())
        }
        let now = clock.monotonicSeconds()
        for channel in [SimHarness<Rules>.largeSnapshotChannel, SimHarness<Rules>.snapshotChannel] {
            while let message = channels.receive(on: channel) {
                if simulation.receiveSnapshot(message, now: now) { recordSnapshot(now: now) }
            }
        }
        while channels.receive(on: 0) != nil { reliableReceived += 1 }
        guard transport.state == .connected else { return }
        if !spectating {
            _ = try? channels.send(simulation.makeInputMessage(input, now: now), on: SimHarness<Rules>.inputChannel)
            inputSentAt[simulation.inputSequence] = now
        }
        channels.generatePackets(now: now) { packet in
            _ = self.transport.send(Array(packet))
        }
    }

    public func frame() -> ClientSimulation<Rules>.Frame { simulation.frame(now: clock.monotonicSeconds()) }

    /// Sends a reliable message (channel 0); the game server echoes it back.
    @discardableResult
    public func sendReliable(_ bytes: [UInt8]) -> Bool {
        guard (try? channels.send(bytes, on: 0)) != nil else { return false }
        reliableSent += 1
        return true
    }

    private func recordSnapshot(now: Double) {
        if let last = lastSnapshotAt { snapshotGaps.append(now - last) }
        lastSnapshotAt = now
        let applied = simulation.lastApplied
        if applied > lastAppliedSeen {
            for sequence in (lastAppliedSeen + 1)...applied {
                if let sent = inputSentAt.removeValue(forKey: sequence) { inputAckLatencies.append(now - sent) }
            }
            lastAppliedSeen = applied
        }
        if inputSentAt.count > 512 { inputSentAt = inputSentAt.filter { $0.key > applied } }
    }

    /// Empties the measurement buffers (the caller keeps what it took).
    public func takeMeasurements() -> (snapshotGaps: [Double], inputAckLatencies: [Double], corrections: [Double]) {
        defer {
            snapshotGaps.removeAll(keepingCapacity: true)
            inputAckLatencies.removeAll(keepingCapacity: true)
        }
        return (snapshotGaps, inputAckLatencies, simulation.corrections)
    }

    /// Round-trip time in seconds, packet loss as a fraction (from the channel layer).
    public var roundTripTime: Double { channels.statistics.rtt }
    public var packetLoss: Double { channels.statistics.packetLoss }

    public func disconnect() { transport.disconnect() }
}
