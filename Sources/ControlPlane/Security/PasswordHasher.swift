import CSodium
import Foundation

/// Argon2id password hashing (libsodium `crypto_pwhash_str`) off the event loops, with a bound
/// on hashes in flight so that a login flood queues instead of exhausting memory
/// (each hash at the interactive cost holds 64 MiB).
public final class PasswordHasher: Sendable {
    /// Argon2id cost.
    public struct Cost: Sendable, Equatable {
        public var operations: UInt64
        public var memoryBytes: Int

        /// libsodium's INTERACTIVE limits: 2 passes, 64 MiB.
        public static let interactive = Cost(operations: UInt64(crypto_pwhash_opslimit_interactive()), memoryBytes: crypto_pwhash_memlimit_interactive())
        /// The smallest cost libsodium allows; for tests and load tests only.
        public static let minimum = Cost(operations: UInt64(crypto_pwhash_opslimit_min()), memoryBytes: crypto_pwhash_memlimit_min())

        public init(operations: UInt64, memoryBytes: Int) {
            self.operations = operations
            self.memoryBytes = memoryBytes
        }
    }

    public let cost: Cost
    private let gate: ConcurrencyGate
    private let queue = DispatchQueue(label: "arbiter.password-hashing", attributes: .concurrent)

    public init(cost: Cost = .interactive, maxConcurrentHashes: Int = 2) {
        self.cost = cost
        gate = ConcurrencyGate(limit: max(1, maxConcurrentHashes))
    }

    /// The encoded hash (algorithm, parameters, salt and digest in one string).
    public func hash(_ password: String) async throws -> String {
        try await gate.run {
            try await self.offload {
                var output = [CChar](repeating: 0, count: Int(crypto_pwhash_strbytes()))
                // The length is passed explicitly, so the bytes may hold anything, NUL included.
                let result = crypto_pwhash_str_alg(
                    &output, password, UInt64(password.utf8.count), self.cost.operations, self.cost.memoryBytes, crypto_pwhash_alg_argon2id13())
                guard result == 0 else { throw PasswordHashingError.outOfMemory }
                let length = output.firstIndex(of: 0) ?? output.count
                return String(decoding: output[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
    }

    /// True if `password` matches `encoded`. Constant-time inside libsodium.
    public func verify(_ password: String, against encoded: String) async throws -> Bool {
        try await gate.run {
            try await self.offload {
                return crypto_pwhash_str_verify(encoded, password, UInt64(password.utf8.count)) == 0
            }
        }
    }

    private func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}

enum PasswordHashingError: Error { case outOfMemory }

/// Lets at most `limit` operations run at once; the rest wait in arrival order.
actor ConcurrencyGate {
    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func run<T: Sendable>(_ operation: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await operation()
    }

    private func acquire() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
