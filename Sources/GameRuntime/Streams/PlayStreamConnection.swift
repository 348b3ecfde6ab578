import MatchContract
import NetProtocol
import Synchronization

/// One WebSocket player between its socket (the control port's route, on an event loop) and
/// its game worker's thread. Both sides meet only in this object's lock, and neither waits for
/// the other: the worker copies each outgoing channel packet into a fixed ring (allocated once,
/// when the connection opens) and returns; the socket side takes what the ring holds whenever it
/// can write. A ring that fills means the client reads too slowly: the session ends
/// (``PlayCloseCode/tooSlow``) instead of the worker waiting or the memory growing.
///
/// `@unchecked Sendable`: the mutable state is under `state`'s lock, except ``clientIndex``,
/// which only the owning game worker's thread reads and writes.
final class PlayStreamConnection: PlayStreamSession, @unchecked Sendable {
    private struct Outbound {
        var bytes: [UInt8]
        var lengths: [Int]
        var head = 0
        var count = 0
    }

    private struct State {
        var outbound: Outbound
        var end: PlayCloseCode?
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state: Mutex<State>
    private let capacity: Int
    private let inbox: StreamInbox?
    private let counters: PlayStreamCounters
    private let heldPlace: Bool
    private let clock = SystemClock()

    /// The client slot on the game worker, once admitted (-1 before and after). Worker thread only.
    var clientIndex = -1

    /// - Parameters:
    ///   - inbox: the game worker's; nil for a session refused before it reached one.
    ///   - heldPlace: the session took a player place from the counters, to give back at its end.
    init(inbox: StreamInbox?, outboundFrames: Int, counters: PlayStreamCounters, heldPlace: Bool) {
        self.inbox = inbox
        self.counters = counters
        self.heldPlace = heldPlace
        capacity = max(1, outboundFrames)
        let ringBytes = inbox == nil ? 0 : capacity * Netcode.maxPayloadBytes
        state = Mutex(State(outbound: Outbound(bytes: [UInt8](repeating: 0, count: ringBytes), lengths: [Int](repeating: 0, count: capacity)), end: nil))
    }

    /// True once the session has ended, from either side.
    var hasEnded: Bool { state.withLock { $0.end != nil } }

    // MARK: The game worker's side

    /// The worker gave the session a client slot.
    func admitted() { counters.admitted() }

    /// Queues one channel packet for the socket. False when the ring is full (the session has
    /// then ended with ``PlayCloseCode/tooSlow``) or the session had ended.
    func deliver(_ payload: UnsafeRawBufferPointer) -> Bool {
        let capacity = self.capacity
        let (accepted, waiter, endedNow): (Bool, CheckedContinuation<Void, Never>?, Bool) = state.withLock { state in
            guard state.end == nil else { return (false, nil, false) }
            guard state.outbound.count < capacity, payload.count <= Netcode.maxPayloadBytes else {
                state.end = .tooSlow
                defer { state.waiter = nil }
                return (false, state.waiter, true)
            }
            let slot = (state.outbound.head + state.outbound.count) % capacity
            state.outbound.bytes.withUnsafeMutableBytes { ring in
                let start = slot * Netcode.maxPayloadBytes
                UnsafeMutableRawBufferPointer(rebasing: ring[start..<start + payload.count]).copyMemory(from: payload)
            }
            state.outbound.lengths[slot] = payload.count
            state.outbound.count += 1
            defer { state.waiter = nil }
            return (true, state.waiter, false)
        }
        if endedNow { counters.closed(.tooSlow, heldPlace: heldPlace) }
        if accepted { counters.framesOut.add(1, ordering: .relaxed) }
        waiter?.resume()
        return accepted
    }

    /// Ends the session from the game server's side (a refusal, or the worker released the
    /// client's slot). Only the first end counts.
    func end(_ code: PlayCloseCode) {
        if let ended = finish(code) { ended?.resume() }
    }

    // MARK: The socket's side (PlayStreamSession)

    func receive(_ frame: UnsafeRawBufferPointer) {
        guard let inbox, !hasEnded else { return }
        counters.framesIn.add(1, ordering: .relaxed)
        if !inbox.submitFrame(frame, from: self, at: clock.monotonicSeconds()) { counters.framesDropped.add(1, ordering: .relaxed) }
    }

    func nextOutbound(_ body: (UnsafeRawBufferPointer) -> Void) async -> PlayCloseCode? {
        while true {
            switch take(body) {
            case .frames: return nil
            case .ended(let code): return code
            case .nothing: break
            }
            if Task.isCancelled { return state.withLock { $0.end } ?? .peerClosed }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.outbound.count > 0 || state.end != nil || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
        }
    }

    func close(_ code: PlayCloseCode) {
        guard let ended = finish(code) else { return }
        ended?.resume()
        // The worker frees the slot (or, if the open is still queued before this, skips it).
        inbox?.submitClose(self)
    }

    // MARK: -

    private enum Taken {
        case nothing
        case frames
        case ended(PlayCloseCode)
    }

    /// Hands over every queued frame; the end only once none is left.
    private func take(_ body: (UnsafeRawBufferPointer) -> Void) -> Taken {
        let capacity = self.capacity
        return state.withLock { state in
            guard state.outbound.count > 0 else { return state.end.map { .ended($0) } ?? .nothing }
            state.outbound.bytes.withUnsafeBytes { ring in
                while state.outbound.count > 0 {
                    let slot = state.outbound.head
                    let start = slot * Netcode.maxPayloadBytes
                    body(UnsafeRawBufferPointer(rebasing: ring[start..<start + state.outbound.lengths[slot]]))
                    state.outbound.head = (slot + 1) % capacity
                    state.outbound.count -= 1
                }
            }
            return .frames
        }
    }

    /// Records the end, once; returns the waiter to resume (a non-nil optional when it ended now).
    private func finish(_ code: PlayCloseCode) -> CheckedContinuation<Void, Never>?? {
        let outcome: CheckedContinuation<Void, Never>?? = state.withLock { state in
            guard state.end == nil else { return .none }
            state.end = code
            defer { state.waiter = nil }
            return .some(state.waiter)
        }
        if outcome != nil { counters.closed(code, heldPlace: heldPlace) }
        return outcome
    }
}
