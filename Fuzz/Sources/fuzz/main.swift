import CFuzzDriver
import Foundation
import FuzzTargets

/// Which target this process fuzzes: `ARBITER_FUZZ_TARGET` (one of ``FuzzTarget``'s names),
/// read once by libFuzzer's initialisation hook before any input runs.
nonisolated(unsafe) var selectedTarget = FuzzTarget.netcodeServer

/// libFuzzer calls this once, first. It picks the target and, when `ARBITER_FUZZ_SEED_DIR` is
/// set, writes the target's seed corpus there (the known-answer vectors from
/// `ARBITER_FUZZ_VECTORS`, and our encoders' output) for libFuzzer to read next.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    let environment = ProcessInfo.processInfo.environment
    guard let name = environment["ARBITER_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("fuzz: set ARBITER_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    selectedTarget = target
    if let folder = environment["ARBITER_FUZZ_SEED_DIR"] {
        let vectors = environment["ARBITER_FUZZ_VECTORS"].flatMap(FuzzTarget.loadVectors)
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (index, seed) in target.seeds(vectors: vectors).enumerated() {
            _ = FileManager.default.createFile(atPath: "\(folder)/seed-\(index)", contents: Data(seed))
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

// SwiftPM gives an executable its own entry point, so libFuzzer's `main` is not the one that
// runs: hand it the command line instead.
var arguments = CommandLine.argc
var argumentValues: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&arguments, &argumentValues) { data, size in fuzzerTestOneInput(data, size) })
