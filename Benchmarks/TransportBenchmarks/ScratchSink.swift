import NetProtocol

/// A sink that keeps only the last datagram and the last payload, in preallocated memory, so
/// that the benchmarks measure the endpoints and not the test plumbing.
final class Scratch: @unchecked Sendable {
    let datagram = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
    var datagramLength = 0
    var destination = NetAddress(ipv4: 0, 0, 0, 0, port: 0)
    let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 16)
    var payloadLength = 0
    var datagrams = 0
    var connected = false

    var lastDatagram: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: datagram[0..<datagramLength]) }
    var lastPayload: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: payload[0..<payloadLength]) }
}

struct ScratchSink: ServerSink, ClientSink {
    let scratch: Scratch

    func transmit(_ bytes: UnsafeRawBufferPointer, to address: NetAddress) {
        UnsafeMutableRawBufferPointer(rebasing: scratch.datagram[0..<bytes.count]).copyMemory(from: bytes)
        scratch.datagramLength = bytes.count
        scratch.destination = address
        scratch.datagrams += 1
    }

    func serverEvent(_ event: ServerEvent) {
        switch event {
        case .payload(_, let bytes): keep(bytes)
        case .connected: scratch.connected = true
        case .disconnected: scratch.connected = false
        }
    }

    func clientEvent(_ event: ClientEvent) {
        switch event {
        case .payload(let bytes): keep(bytes)
        case .stateChanged(_, let to): scratch.connected = to == .connected
        }
    }

    private func keep(_ bytes: UnsafeRawBufferPointer) {
        UnsafeMutableRawBufferPointer(rebasing: scratch.payload[0..<bytes.count]).copyMemory(from: bytes)
        scratch.payloadLength = bytes.count
    }
}
