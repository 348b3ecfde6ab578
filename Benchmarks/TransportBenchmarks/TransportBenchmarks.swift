import Benchmark
import Foundation
import GameRuntime
import NetProtocol

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )

    var random = SeededRandomSource(seed: 7)
    let key = SymmetricKey(random: &random)
    let codec = PacketCodec(protocolID: 0xBE9C)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Netcode.maxPacketBytes, alignment: 16)

    for size in [100, 1200] {
        Benchmark("Packet seal + open, \(size) B payload") { benchmark in
            var sequence: UInt64 = 1 << 20
            for _ in benchmark.scaledIterations {
                sequence &+= 1
                let length = codec.seal(buffer, type: .payload, sequence: sequence, bodyLength: size, key: key)
                let packet = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
                guard case .success(let header) = PacketCodec.readHeader(UnsafeRawBufferPointer(packet)) else { fatalError("benchmark packet did not parse") }
                blackHole(codec.open(packet, header: header, key: key))
            }
        }
    }

    let serverAddress = NetAddress(ipv4: 127, 0, 0, 1, port: 40000)
    Benchmark("Connect token generate (2048 B)", configuration: .init(scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ConnectToken.generate(
                publicAddresses: [serverAddress], expireSeconds: 30, timeoutSeconds: 5, clientID: 1, protocolID: 0xBE9C,
                privateKey: key, nowUnix: 1_700_000_000, random: &random).encoded())
        }
    }

    let token = try! ConnectToken.generate(
        publicAddresses: [serverAddress], expireSeconds: 30, timeoutSeconds: 5, clientID: 1, protocolID: 0xBE9C,
        privateKey: key, nowUnix: 1_700_000_000, random: &random)
    let tokenScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1100, alignment: 16)
    Benchmark("Connect token validate (decrypt + parse private part)", configuration: .init(scalingFactor: .one)) { benchmark in
        token.sealedPrivate.withUnsafeBytes { sealed in
            token.nonce.withUnsafeBytes { nonce in
                for _ in benchmark.scaledIterations {
                    blackHole(try? PrivateConnectToken.open(
                        sealed: sealed, protocolID: 0xBE9C, expireTimestamp: token.expireTimestamp, nonce: nonce,
                        privateKey: key, scratch: tokenScratch))
                }
            }
        }
    }

    // Server core in steady state: one connected client; each iteration the client sends a
    // 60-byte input, the server decrypts it and replies with a 200-byte payload, and the client
    // decrypts the reply. Four AEAD operations, two datagrams each way, zero allocations.
    let pair = ConnectedPair(key: key, serverAddress: serverAddress)
    let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 60, alignment: 8)
    input.initializeMemory(as: UInt8.self, repeating: 1)
    let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: 200, alignment: 8)
    reply.initializeMemory(as: UInt8.self, repeating: 2)
    Benchmark("Core round trip: 60 B input up, 200 B reply down (in process)") { benchmark in
        for _ in benchmark.scaledIterations {
            pair.roundTrip(input: UnsafeRawBufferPointer(input), reply: UnsafeRawBufferPointer(reply))
        }
    }

    channelBenchmarks()

    // The whole path on loopback: real sockets, recvmmsg/sendmmsg, the server on its own thread.
    // One iteration: each of 64 clients sends a 60-byte payload and waits for its echo.
    Benchmark(
        "Loopback echo, 64 clients (one iteration = 128 datagrams)",
        configuration: .init(
            metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput], scalingFactor: .one,
            maxDuration: .seconds(5), maxIterations: 2_000,
            setup: { try LoopbackRig.shared.start(clients: 64) },
            teardown: { LoopbackRig.shared.stop() })
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            LoopbackRig.shared.echoRound()
        }
    }
}
