import Foundation
import FuzzTargets
import NetProtocol
import Testing

/// Every fuzz target over its seed corpus and over seeded mutations of it, on every test run:
/// the harnesses stay compiling and the decoders stay crash-free on what the fuzzer starts from.
/// (`tools/fuzz TARGET` runs the real fuzzer; `ARBITER_FUZZ_SECONDS` makes `tools/test` do so.)
@Suite struct FuzzSeedReplayTests {
    /// The known-answer vectors, from the source tree or the shared reference beside it.
    static func vectors() -> [String: Any]? {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let candidates = [
            here.appendingPathComponent("../NetProtocolTests/Vectors/netcode-1.02-vectors.json").path,
            here.appendingPathComponent("../../../shared/reference/netcode-vectors/netcode-1.02-vectors.json").path,
        ]
        return candidates.lazy.compactMap(FuzzTarget.loadVectors).first
    }

    @Test func theVectorsAreFound() {
        #expect(Self.vectors() != nil)
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsAndTheirMutationsRunCleanly(target: FuzzTarget) {
        let seeds = target.seeds(vectors: Self.vectors())
        #expect(seeds.count >= 3, "\(target) has seeds")
        var generator = SeededRandomSource(seed: 0xF022 ^ UInt64(target.rawValue.utf8.count))
        for seed in seeds {
            target.run(seed)
            // Flip, insert, delete and truncate, as a fuzzer's first mutations would.
            for _ in 0..<40 {
                var bytes = seed
                for _ in 0...(generator.next() % 4) {
                    guard !bytes.isEmpty else { break }
                    let index = Int(generator.next() % UInt64(bytes.count))
                    switch generator.next() % 4 {
                    case 0: bytes[index] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
                    case 1: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: index)
                    case 2: bytes.remove(at: index)
                    default: bytes.removeLast(bytes.count - index)
                    }
                }
                target.run(bytes)
            }
        }
        target.run([])
    }
}
