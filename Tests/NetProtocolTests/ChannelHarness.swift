import NetProtocol

/// Two channel connections joined by a seeded link simulator in virtual time.
final class ChannelPair: VirtualTimeHarness {
    let a: ChannelConnection
    let b: ChannelConnection
    let network: VirtualNetwork
    var link: LinkSimulator { network.link }
    let addressA = NetAddress(ipv4: 10, 0, 0, 1, port: 1)
    let addressB = NetAddress(ipv4: 10, 0, 0, 2, port: 2)
    var time: Double {
        get { network.time }
        set { network.time = newValue }
    }
    var tick: Double { network.tick }
    /// Extra per-packet hook (tamper, drop) on the way into each side.
    var intoB: (([UInt8]) -> [UInt8]?)?

    init(configuration: ConnectionConfiguration = ConnectionConfiguration(), conditions: LinkConditions = .perfect, seed: UInt64 = 1, tick: Double = 1.0 / 60) throws {
        a = try ChannelConnection(configuration: configuration)
        b = try ChannelConnection(configuration: configuration)
        network = VirtualNetwork(conditions: conditions, seed: seed, tick: tick)
    }

    func step() {
        network.deliverDue { datagram in
            if datagram.to == addressB {
                guard let bytes = intoB.map({ $0(datagram.bytes) }) ?? datagram.bytes else { return }
                b.handlePacket(bytes, now: time)
            } else {
                a.handlePacket(datagram.bytes, now: time)
            }
        }
        a.generatePackets(now: time) { network.send($0, from: addressA, to: addressB) }
        b.generatePackets(now: time) { network.send($0, from: addressB, to: addressA) }
        network.advance()
    }

    /// Everything `connection` has ready on `channel`.
    func drain(_ connection: ChannelConnection, channel: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let message = connection.receive(on: channel) { out.append(message) }
        return out
    }
}

/// A message body that says which message it is: 4-byte index, then filler up to `size`.
func numberedMessage(_ index: Int, size: Int = 8) -> [UInt8] {
    var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: index &* 7), count: max(4, size))
    bytes[0] = UInt8(truncatingIfNeeded: index)
    bytes[1] = UInt8(truncatingIfNeeded: index >> 8)
    bytes[2] = UInt8(truncatingIfNeeded: index >> 16)
    bytes[3] = UInt8(truncatingIfNeeded: index >> 24)
    return bytes
}

func messageNumber(_ bytes: [UInt8]) -> Int {
    Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
}
