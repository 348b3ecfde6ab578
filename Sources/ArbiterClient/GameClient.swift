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

    /// - Parameter settings: the match's settings (tick rate and map must match the server's).
    public init(settings: MatchSettings = MatchSettings(), bind: NetAddress? = nil) throws {
        transport = try TransportClient(bind: bind)
        var configuration = ConnectionConfiguration()
        configuration.budgetBytesPerTick = 16 * 1024
        channels = try ChannelConnection(configuration: configuration)
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
            while let message = channels.receive(on: channel) { simulation.receiveSnapshot(message, now: now) }
        }
        guard transport.state == .connected else { return }
        if !spectating {
            _ = try? channels.send(simulation.makeInputMessage(input, now: now), on: SimHarness<Rules>.inputChannel)
        }
        channels.generatePackets(now: now) { packet in
            _ = self.transport.send(Array(packet))
        }
    }

    public func frame() -> ClientSimulation<Rules>.Frame { simulation.frame(now: clock.monotonicSeconds()) }

    /// Round-trip time in seconds, packet loss as a fraction (from the channel layer).
    public var roundTripTime: Double { channels.statistics.rtt }
    public var packetLoss: Double { channels.statistics.packetLoss }

    public func disconnect() { transport.disconnect() }
}
