@testable import GameRuntime
import MatchContract
import NetProtocol
import Testing

/// The seam between a WebSocket player's socket and its game worker, without sockets.
@Suite struct PlayStreamConnectionTests {
    private func connection(frames: Int = 4) -> (PlayStreamConnection, StreamGateway) {
        let gateway = StreamGateway(routes: [])
        let connection = PlayStreamConnection(inbox: StreamInbox(frameCapacity: 8), outboundFrames: frames, counters: PlayStreamCounters(), heldPlace: false)
        return (connection, gateway)
    }

    private func take(_ connection: PlayStreamConnection) async -> ([[UInt8]], PlayCloseCode?) {
        var frames: [[UInt8]] = []
        let end = await connection.nextOutbound { frames.append(Array($0)) }
        return (frames, end)
    }

    @Test func framesComeOutInOrderAndTheEndOnlyAfterThem() async {
        let (connection, _) = connection()
        for byte in [UInt8(1), 2, 3] { #expect([byte].withUnsafeBytes { connection.deliver($0) }) }
        connection.end(.disconnected)
        let (frames, first) = await take(connection)
        #expect(frames == [[1], [2], [3]])
        #expect(first == nil)
        let (none, end) = await take(connection)
        #expect(none.isEmpty)
        #expect(end == .disconnected)
        // Nothing is queued once it has ended.
        #expect(![UInt8(4)].withUnsafeBytes { connection.deliver($0) } )
    }

    @Test func aReaderThatFallsBehindEndsTheSessionInsteadOfGrowingIt() async {
        let (connection, _) = connection(frames: 4)
        let accepted = (0..<6).map { index in [UInt8(index)].withUnsafeBytes { connection.deliver($0) } }
        #expect(accepted == [true, true, true, true, false, false])
        #expect(connection.hasEnded)
        let (frames, _) = await take(connection)
        #expect(frames.count == 4)
        #expect(await take(connection).1 == .tooSlow)
    }

    @Test func aWaitingWriterWakesForAFrameAndForCancellation() async {
        let (connection, _) = connection()
        async let waited = take(connection)
        [UInt8(9)].withUnsafeBytes { _ = connection.deliver($0) }
        #expect(await waited.0 == [[9]])

        let idle = Task { await connection.nextOutbound { _ in } }
        idle.cancel()
        #expect(await idle.value == .peerClosed)
        // The socket side's close counts once, and later ends do not replace it.
        connection.close(.rateLimited)
        connection.end(.timedOut)
        #expect(await take(connection).1 == .rateLimited)
    }

    @Test func theGatewayRefusesWhatNoWorkerTakes() async {
        let gateway = StreamGateway(routes: [], limits: PlayStreamLimits(maxPlayers: 1))
        let bad = gateway.open(connectToken: [1, 2, 3], peer: NetAddress(ipv4: 127, 0, 0, 1, port: 1))
        #expect(await bad.nextOutbound { _ in } == .badToken)
        #expect(gateway.stats.closes == ["bad_token": 1])
        #expect(gateway.stats.open == 0)
    }
}
