import CArbiterUDP
import NetProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Why a socket could not be opened.
public struct UDPSocketError: Error, CustomStringConvertible, Sendable {
    public let address: NetAddress
    public let errno: Int32

    public var description: String {
        let message = String(cString: strerror(errno))
        return "cannot bind UDP socket to \(address): \(message) (errno \(errno))"
    }
}

/// A non-blocking UDP socket with large kernel buffers, read and written in batches
/// (recvmmsg / sendmmsg). IPv6 sockets bound to `::` also serve IPv4 peers.
public final class UDPSocket: @unchecked Sendable {
    /// The bound address (the real port when bound to port 0).
    public let localAddress: NetAddress
    let descriptor: Int32

    /// Binds to `address`. `socketBufferBytes` is asked of the kernel for both directions
    /// (4 MiB by default, as the reference does).
    public init(bind address: NetAddress, socketBufferBytes: Int = 4 << 20) throws(UDPSocketError) {
        var bindAddress = arbiter_udp_address(address)
        var bound = arbiter_udp_address()
        let result = arbiter_udp_open(&bindAddress, Int32(socketBufferBytes), &bound)
        guard result >= 0 else { throw UDPSocketError(address: address, errno: -result) }
        descriptor = result
        localAddress = NetAddress(bound) ?? address
    }

    deinit { arbiter_udp_close(descriptor) }

    /// Asks the kernel to stamp each datagram with its arrival time (``DatagramBatch/receivedAt(_:)``):
    /// a server that reads its socket only at its ticks still knows when each datagram came.
    public func enableReceiveTimestamps() -> Bool { arbiter_udp_enable_receive_timestamps(descriptor) == 0 }

    /// Blocks until a datagram is waiting or the timeout passes. Returns true if readable.
    @discardableResult
    public func waitReadable(timeoutMilliseconds: Int) -> Bool {
        arbiter_udp_wait_readable(descriptor, Int32(clamping: max(0, timeoutMilliseconds))) > 0
    }
}

extension arbiter_udp_address {
    init(_ address: NetAddress) {
        self.init()
        family = address.family == .ipv4 ? 4 : 6
        port = address.port
        address.withNetworkOrderBytes { raw in
            withUnsafeMutableBytes(of: &bytes) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<16]))
            }
        }
    }
}

extension NetAddress {
    init?(_ raw: arbiter_udp_address) {
        var copy = raw
        let family: NetAddress.Family = raw.family == 4 ? .ipv4 : .ipv6
        guard raw.family == 4 || raw.family == 6 else { return nil }
        let parsed = withUnsafeBytes(of: &copy.bytes) { bytes in
            NetAddress(family: family, networkOrderBytes: bytes, port: raw.port)
        }
        guard let parsed else { return nil }
        self = parsed
    }
}

/// A fixed set of datagram buffers for one socket: filled by `receive`, or staged with
/// `transmit` and written by `flush`. Allocated once; nothing on the per-datagram path allocates.
public final class DatagramBatch {
    private let batch: OpaquePointer
    public let capacity: Int
    /// One more than the largest datagram the protocol accepts, so that an oversized datagram
    /// (truncated by the kernel) still shows as too long rather than as a valid prefix.
    public let bufferBytes = Netcode.maxPacketBytes + 1
    private let socket: UDPSocket
    /// Staged datagrams waiting for `flush`.
    public private(set) var staged = 0
    public private(set) var sendFailures: UInt64 = 0

    public init(socket: UDPSocket, capacity: Int = 64) {
        precondition(capacity > 0)
        self.socket = socket
        self.capacity = capacity
        guard let batch = arbiter_udp_batch_create(Int32(capacity), Int32(Netcode.maxPacketBytes + 1),
                                                   socket.localAddress.family == .ipv4 ? 4 : 6)
        else { preconditionFailure("out of memory allocating a datagram batch") }
        self.batch = batch
    }

    deinit { arbiter_udp_batch_destroy(batch) }

    /// Reads up to `capacity` waiting datagrams without blocking; returns how many.
    public func receive() -> Int {
        let count = arbiter_udp_receive(socket.descriptor, batch)
        return max(0, Int(count))
    }

    /// Lends received datagram `index` and its sender to `body`.
    @inline(__always)
    public func withDatagram<R>(_ index: Int, _ body: (UnsafeRawBufferPointer, NetAddress) -> R) -> R? {
        var raw = arbiter_udp_address()
        arbiter_udp_batch_address(batch, Int32(index), &raw)
        guard let address = NetAddress(raw) else { return nil }
        let length = min(Int(arbiter_udp_batch_length(batch, Int32(index))), bufferBytes)
        let pointer = UnsafeRawPointer(arbiter_udp_batch_buffer(batch, Int32(index)))
        return body(UnsafeRawBufferPointer(start: pointer, count: length), address)
    }

    /// When the kernel received datagram `index` (CLOCK_REALTIME nanoseconds), or 0 if the socket
    /// does not ask for timestamps.
    @inline(__always)
    public func receivedAt(_ index: Int) -> Int64 { arbiter_udp_batch_received_at(batch, Int32(index)) }

    /// Stages a datagram; flushes first when the batch is full.
    public func transmit(_ datagram: UnsafeRawBufferPointer, to address: NetAddress) {
        guard datagram.count <= bufferBytes else { return }
        if staged == capacity { flush() }
        if let target = arbiter_udp_batch_buffer(batch, Int32(staged)), let source = datagram.baseAddress {
            UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: datagram.count)
        }
        var destination = arbiter_udp_address(address)
        arbiter_udp_batch_prepare(batch, Int32(staged), Int32(datagram.count), &destination)
        staged += 1
    }

    /// Sends everything staged in as few syscalls as possible.
    public func flush() {
        guard staged > 0 else { return }
        var failed: Int32 = 0
        _ = arbiter_udp_send(socket.descriptor, batch, Int32(staged), &failed)
        sendFailures &+= UInt64(failed)
        staged = 0
    }
}

/// Whether a TCP server could listen on `address` now: 0, or the errno a bind or listen would
/// fail with (EADDRINUSE when another socket holds the port). A check before starting a server
/// whose own bind error would not name the address; port 0 always passes.
public func tcpListenProbe(_ address: NetAddress) -> Int32 {
    var raw = arbiter_udp_address(address)
    return -arbiter_tcp_probe_listen(&raw)
}
