import NetProtocol
import Synchronization

/// What a game worker's WebSocket players sent since its last pass: opens (connect tokens to
/// check), frames (channel packets), closes. The sockets' event loops add to it under a lock and
/// never wait for the worker; the worker takes everything at once by swapping in its spare
/// ``Batch`` (no copy, no allocation once both batches have grown), and handles it outside the
/// lock, on its own schedule, as it drains its UDP socket.
///
/// Bounded: at most `frameCapacity` frames wait (beyond, a frame is dropped and counted, as the
/// kernel drops datagrams a worker has not read); opens are bounded by the gateway's player limit.
public final class StreamInbox: Sendable {
    struct Open {
        let connection: PlayStreamConnection
        let token: [UInt8]
        let peer: NetAddress
    }

    /// One pass's worth. Frame `i` is `bytes[i·1200 ..< i·1200 + lengths[i]]`, from `owners[i]`,
    /// arrived at `arrivals[i]` (monotonic seconds).
    struct Batch {
        var opens: [Open] = []
        var bytes: [UInt8]
        var lengths: [Int]
        var arrivals: [Double]
        var owners: [PlayStreamConnection?]
        var frameCount = 0
        var closes: [PlayStreamConnection] = []

        init(frameCapacity: Int) {
            bytes = [UInt8](repeating: 0, count: frameCapacity * Netcode.maxPayloadBytes)
            lengths = [Int](repeating: 0, count: frameCapacity)
            arrivals = [Double](repeating: 0, count: frameCapacity)
            owners = [PlayStreamConnection?](repeating: nil, count: frameCapacity)
        }

        var isEmpty: Bool { opens.isEmpty && frameCount == 0 && closes.isEmpty }

        /// Empties it for reuse, keeping its storage.
        mutating func reset() {
            opens.removeAll(keepingCapacity: true)
            for index in 0..<frameCount { owners[index] = nil }
            frameCount = 0
            closes.removeAll(keepingCapacity: true)
        }
    }

    private struct State {
        var batch: Batch
        var stopped = false
    }

    private let state: Mutex<State>
    let frameCapacity: Int

    /// - Parameter frameCapacity: frames that may wait for one pass (1200 bytes each, twice: the
    ///   batch filling and the one the worker handles).
    public init(frameCapacity: Int = 1024) {
        self.frameCapacity = max(1, frameCapacity)
        state = Mutex(State(batch: Batch(frameCapacity: max(1, frameCapacity))))
    }

    /// A spare batch of this inbox's size, for the worker.
    func makeBatch() -> Batch { Batch(frameCapacity: frameCapacity) }

    /// False when the worker has stopped.
    func submitOpen(_ connection: PlayStreamConnection, token: [UInt8], peer: NetAddress) -> Bool {
        state.withLock { state in
            guard !state.stopped else { return false }
            state.batch.opens.append(Open(connection: connection, token: token, peer: peer))
            return true
        }
    }

    /// False when the frame was dropped: the inbox is full, the frame is not a payload's size, or
    /// the worker has stopped.
    func submitFrame(_ frame: UnsafeRawBufferPointer, from connection: PlayStreamConnection, at arrival: Double) -> Bool {
        guard (1...Netcode.maxPayloadBytes).contains(frame.count) else { return false }
        return state.withLock { state in
            let index = state.batch.frameCount
            guard !state.stopped, index < state.batch.lengths.count else { return false }
            state.batch.bytes.withUnsafeMutableBytes { slab in
                let start = index * Netcode.maxPayloadBytes
                UnsafeMutableRawBufferPointer(rebasing: slab[start..<start + frame.count]).copyMemory(from: frame)
            }
            state.batch.lengths[index] = frame.count
            state.batch.arrivals[index] = arrival
            state.batch.owners[index] = connection
            state.batch.frameCount = index + 1
            return true
        }
    }

    func submitClose(_ connection: PlayStreamConnection) {
        state.withLock { state in
            guard !state.stopped else { return }
            state.batch.closes.append(connection)
        }
    }

    /// Swaps `spare` (emptied) for everything queued.
    func take(swapping spare: inout Batch) {
        spare.reset()
        state.withLock { state in swap(&state.batch, &spare) }
    }

    /// Refuses everything from now on and hands back the opens still waiting (the worker ends them).
    func stop() -> [PlayStreamConnection] {
        state.withLock { state in
            state.stopped = true
            defer { state.batch.reset() }
            return state.batch.opens.map(\.connection)
        }
    }
}
