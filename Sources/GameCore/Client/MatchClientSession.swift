import MatchContract
import NetProtocol

/// The client end of a match connection, sans-IO: the channel connection laid out as
/// ``MatchChannel`` says, and the predicting, interpolating ``ClientSimulation`` on top. The SDK's
/// UDP client and the virtual-time harness both drive this one type.
public final class MatchClientSession<Rules: GameRules> {
    public let channels: ChannelConnection
    public let simulation: ClientSimulation<Rules>
    public private(set) var spectating = false
    /// Reliable messages (channel 0) that came back: the server echoes each one.
    public private(set) var reliableReceived = 0
    /// The final standings, once the server said the match is over (``MatchOverMessage``).
    public private(set) var finalStandings: [ScoreLine]?

    public init(rules: Rules, settings: MatchSettings) throws(ConnectionConfiguration.Invalid) {
        channels = try ChannelConnection(configuration: MatchChannel.connectionConfiguration())
        simulation = ClientSimulation(rules: rules, settings: settings)
    }

    /// A packet from the server (channel-layer bytes).
    public func handlePacket(_ bytes: UnsafeRawBufferPointer, now: Double) { channels.handlePacket(bytes, now: now) }

    /// Hands every snapshot that arrived to the simulation; `applied` runs for each one it took.
    public func deliverMessages(now: Double, applied: () -> Void = {}) {
        for channel in MatchChannel.snapshotChannels {
            while let message = channels.receive(on: channel) {
                if message.first == MatchOverMessage.kind {
                    finalStandings = MatchOverMessage.decode(message) ?? finalStandings
                } else if simulation.receiveSnapshot(message, now: now) {
                    applied()
                }
            }
        }
        while channels.receive(on: .reliable) != nil { reliableReceived += 1 }
    }

    /// Queues this tick's input (nothing while spectating). Returns its sequence number.
    @discardableResult
    public func sendInput(_ input: Rules.Input, now: Double) -> UInt32? {
        guard !spectating else { return nil }
        _ = try? channels.send(simulation.makeInputMessage(input, now: now), on: .input)
        return simulation.inputSequence
    }

    /// Asks the server for spectator mode: no player of our own, the whole world in view.
    public func spectate() {
        spectating = true
        _ = try? channels.send([MatchMessage.spectate], on: .input)
    }

    /// Queues a reliable message (channel 0); the server echoes it back.
    public func sendReliable(_ bytes: [UInt8]) -> Bool { (try? channels.send(bytes, on: .reliable)) != nil }

    /// The packets the channels owe the server now.
    public func generatePackets(now: Double, _ body: (UnsafeRawBufferPointer) -> Void) { channels.generatePackets(now: now, body) }
}
