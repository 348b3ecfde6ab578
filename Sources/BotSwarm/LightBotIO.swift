import CArbiterRing
import NetProtocol

/// The UDP sockets of one light-bot thread, read and written together (``CArbiterRing``): a
/// socket per bot, connected to its server, every send of a tick and every receive handed to the
/// kernel in one or two `io_uring_enter` calls, whatever the number of bots; plain per-socket
/// syscalls when io_uring cannot be set up. Owned by the thread that creates it; nothing
/// allocates after `init`.
final class LightBotIO {
    private let ring: OpaquePointer
    private let received: UnsafeMutablePointer<arbiter_ring_datagram>
    private static let harvestBatch = 256
    /// Where a bot writes its channel packet before the transport seals it: one for the thread.
    let scratch: UnsafeMutableRawBufferPointer
    /// One more than the largest datagram the protocol accepts, so that a longer one shows as
    /// too long rather than as a valid prefix.
    static let bufferBytes = Netcode.maxPacketBytes + 1

    /// Nil when out of memory. `useIOUring` false forces the fallback.
    init?(maxSockets: Int, useIOUring: Bool) {
        guard let ring = arbiter_ring_create(Int32(max(1, maxSockets)), Int32(Self.bufferBytes), useIOUring ? 1 : 0) else { return nil }
        self.ring = ring
        received = .allocate(capacity: Self.harvestBatch)
        scratch = .allocate(byteCount: Netcode.maxPayloadBytes, alignment: 16)
    }

    deinit {
        arbiter_ring_destroy(ring)
        received.deallocate()
        scratch.deallocate()
    }

    var usesIOUring: Bool { arbiter_ring_uses_io_uring(ring) != 0 }
    /// Why io_uring is not used: the errno of its failed set-up (0 when used, or not tried).
    var setupErrno: Int32 { arbiter_ring_setup_errno(ring) }

    var counters: arbiter_ring_counters {
        var counters = arbiter_ring_counters()
        arbiter_ring_get_counters(ring, &counters)
        return counters
    }

    /// Datagrams the kernel refused, or that found no free send slot.
    var sendFailures: UInt64 { counters.send_failures }

    /// A socket connected to `server`: its number, or -errno.
    func openSocket(to server: NetAddress) -> Int32 {
        server.withNetworkOrderBytes { bytes in
            arbiter_ring_open_socket(ring, server.family == .ipv4 ? 4 : 6, bytes.bindMemory(to: UInt8.self).baseAddress, server.port)
        }
    }

    /// Queues a datagram (copied now) for the next ``submit()``; false when it could not be.
    @inline(__always)
    @discardableResult
    func send(_ datagram: UnsafeRawBufferPointer, on socket: Int32) -> Bool {
        arbiter_ring_send(ring, socket, datagram.baseAddress, Int32(datagram.count)) == 0
    }

    /// Hands what is queued to the kernel and collects what completed.
    @inline(__always)
    func submit() { arbiter_ring_submit(ring) }

    /// Lends every datagram that arrived since the last ``submit()`` to `body`, with its socket.
    @inline(__always)
    func receiveAll(_ body: (Int32, UnsafeRawBufferPointer) -> Void) {
        while true {
            let count = Int(arbiter_ring_harvest(ring, received, Int32(Self.harvestBatch)))
            guard count > 0 else { break }
            for index in 0..<count {
                let datagram = received[index]
                body(datagram.socket, UnsafeRawBufferPointer(start: datagram.bytes, count: Int(max(0, datagram.length))))
            }
            arbiter_ring_release(ring)
        }
        arbiter_ring_release(ring)
    }

    /// Sends what is queued and waits (at most `milliseconds`) for it to be gone.
    func flush(milliseconds: Int) { arbiter_ring_flush(ring, Int32(milliseconds)) }
}

/// This process's CPU time (user, system) in microseconds.
func processCPUMicros() -> (user: UInt64, system: UInt64) {
    var user: UInt64 = 0
    var system: UInt64 = 0
    arbiter_process_cpu_micros(&user, &system)
    return (user, system)
}
