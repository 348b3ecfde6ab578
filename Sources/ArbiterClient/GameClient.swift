import Foundation
import GameCore
import GameRuntime
import MatchContract
import NetProtocol

/// The client SDK: a UDP connection (netcode transport) carrying a ``MatchClientSession`` (the
/// match channels and the predicting, interpolating client simulation) for any game's rules.
/// Single-threaded: call ``tick(input:until:)`` once per client tick (at the match's tick rate)
/// and ``frame()`` whenever you draw.
public final class GameClient<Rules: GameRules> {
    public let transport: TransportClient
    public let session: MatchClientSession<Rules>
    public var channels: ChannelConnection { session.channels }
    public var simulation: ClientSimulation<Rules> { session.simulation }
    public let settings: MatchSettings
    private let clock: SystemClock
    public var spectating: Bool { session.spectating }

    // Measurements for load tests: when each input went out, and the gaps between snapshots.
    private var inputSentAt: [UInt32: Double] = [:]
    private var lastSnapshotAt: Double?
    private var lastAppliedSeen: UInt32 = 0
    public private(set) var snapshotGaps: [Double] = []
    public private(set) var inputAckLatencies: [Double] = []
    public private(set) var reliableSent = 0
    public var reliableReceived: Int { session.reliableReceived }
    /// The final standings, best first, once the server said the match is over (it disconnects
    /// right after): nil while it runs, and when that last message was lost.
    public var finalStandings: [ScoreLine]? { session.finalStandings }

    /// - Parameter settings: the match's settings (tick rate and map must match the server's).
    public init(rules: Rules, settings: MatchSettings = MatchSettings(), bind: NetAddress? = nil) throws {
        transport = try TransportClient(bind: bind)
        session = try MatchClientSession(rules: rules, settings: settings)
        self.settings = settings
        clock = transport.clock
    }

    public func connect(token: ConnectToken) { transport.connect(token: token) }

    public var state: ClientState { transport.state }

    /// Asks the server for spectator mode: no player of our own, the whole world in view.
    public func spectate() { session.spectate() }

    /// One client tick: receive what arrived (until `deadline`, monotonic seconds), hand
    /// snapshots to the simulation, send this tick's input and whatever the channels owe.
    public func tick(input: Rules.Input, until deadline: Double) {
        transport.poll(until: deadline) { bytes in
            self.session.handlePacket(bytes, now: self.clock.monotonicSeconds())
        }
        let now = clock.monotonicSeconds()
        session.deliverMessages(now: now) { recordSnapshot(now: now) }
        guard transport.state == .connected else { return }
        if let sequence = session.sendInput(input, now: now) { inputSentAt[sequence] = now }
        session.generatePackets(now: now) { packet in
            _ = self.transport.send(Array(packet))
        }
    }

    public func frame() -> ClientSimulation<Rules>.Frame { simulation.frame(now: clock.monotonicSeconds()) }

    /// Sends a reliable message (channel 0); the game server echoes it back.
    @discardableResult
    public func sendReliable(_ bytes: [UInt8]) -> Bool {
        guard session.sendReliable(bytes) else { return false }
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

extension GameClient where Rules == ArenaRules {
    /// A client for the bundled arena.
    public convenience init(settings: MatchSettings = MatchSettings(), bind: NetAddress? = nil) throws {
        try self.init(rules: ArenaRules(), settings: settings, bind: bind)
    }
}
