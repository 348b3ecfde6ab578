import Foundation
import Logging
import NetProtocol

/// The game server's transport handler: admits players into the matches their tickets name,
/// ends matches on time, and (until the simulation arrives) echoes payloads so clients can
/// measure the link.
public final class GameServerHandler: TransportServerHandler {
    public let directory: MatchDirectory
    let logger: Logger
    let clock = SystemClock()
    private var matchOfClient: [Int: (matchID: UInt64, playerID: UInt64)] = [:]
    private var lastMatchSweep = 0.0

    public init(directory: MatchDirectory, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    public func clientConnected(_ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress) {
        let ticket = context.endpoint.userData(of: clientIndex).flatMap { MatchTicket(userData: $0) }
        switch directory.playerConnected(ticket, now: context.now.seconds) {
        case .admitted(let matchID):
            matchOfClient[clientIndex] = (matchID, ticket?.playerID ?? clientID)
            logger.info("player joined match", metadata: ["match_id": "\(matchID)", "player_id": "\(ticket?.playerID ?? 0)"])
        case .defaultArena:
            logger.info("client joined the default arena", metadata: ["client_id": "\(clientID)"])
        case .unknownMatch, .full:
            logger.info("turned a client away", metadata: ["client_id": "\(clientID)", "match_id": "\(ticket?.matchID ?? 0)"])
            context.disconnect(clientIndex)
        }
    }

    public func payloadReceived(_ context: inout TransportServer.Context, clientIndex: Int, bytes: UnsafeRawBufferPointer) {
        context.send(bytes, to: clientIndex)
    }

    public func clientDisconnected(
        _ context: inout TransportServer.Context, clientIndex: Int, clientID: UInt64, address: NetAddress, reason: DisconnectReason
    ) {
        guard let membership = matchOfClient.removeValue(forKey: clientIndex) else { return }
        directory.playerDisconnected(matchID: membership.matchID, playerID: membership.playerID, now: context.now.seconds)
    }

    public func tick(_ context: inout TransportServer.Context) {
        guard context.now.seconds - lastMatchSweep >= 0.5 else { return }
        lastMatchSweep = context.now.seconds
        let ended = Set(directory.endDueMatches(now: context.now.seconds, wallClock: Date()))
        guard !ended.isEmpty else { return }
        for (clientIndex, membership) in matchOfClient where ended.contains(membership.matchID) {
            matchOfClient.removeValue(forKey: clientIndex)
            context.disconnect(clientIndex)
        }
    }
}
