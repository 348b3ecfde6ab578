import CSodium
import Foundation
import Synchronization

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
    let gate: ConcurrencyGate
    private let queue = DispatchQueue(label: "arbiter.password-hashing", attributes: .concurrent)
    private let hashCount = Atomic<Int>(0)
    private let verificationCount = Atomic<Int>(0)

    /// - Parameters:
    ///   - maxConcurrentHashes: hashes computed at once (each holds `cost.memoryBytes`).
    ///   - maxWaiters: requests that may wait for a slot; beyond that ``hash(_:)`` and
    ///     ``verify(_:against:)`` throw ``PasswordHashingError/busy`` at once (HTTP 503).
    public init(cost: Cost = .interactive, maxConcurrentHashes: Int = 2, maxWaiters: Int = 32) {
        self.cost = cost
        gate = ConcurrencyGate(limit: max(1, maxConcurrentHashes), maxWaiters: max(0, maxWaiters))
    }

    /// Hashes computed so far (for tests and metrics).
    public var hashes: Int { hashCount.load(ordering: .relaxed) }
    /// Verifications computed so far (for tests and metrics).
    public var verifications: Int { verificationCount.load(ordering: .relaxed) }

    /// The encoded hash (algorithm, parameters, salt and digest in one string).
    public func hash(_ password: String) async throws -> String {
        try await gate.run {
            try await self.offload {
                self.hashCount.add(1, ordering: .relaxed)
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
                self.verificationCount.add(1, ordering: .relaxed)
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

public enum PasswordHashingError: Error, Sendable {
    case outOfMemory
    /// Every hashing slot is taken and the waiting line is full.
    case busy
}

/// Lets at most `limit` operations run at once; up to `maxWaiters` more wait in arrival order,
/// and the next one is refused with ``PasswordHashingError/busy``. A waiter whose task is
/// cancelled leaves the line at once (throwing `CancellationError`) and never runs; a slot handed
/// to a waiter that was cancelled in the same instant is given back before anything runs.
final class ConcurrencyGate: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var running = 0
        var waiting: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let limit: Int
    private let maxWaiters: Int
    private let state = Mutex(State())

    init(limit: Int, maxWaiters: Int) {
        self.limit = limit
        self.maxWaiters = maxWaiters
    }

    /// Operations running and waiting (for tests).
    var load: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting.count) } }

    func run<T: Sendable>(_ operation: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        // The slot may have been handed over just as the caller went away: do no work for it.
        try Task.checkCancellation()
        return try await operation()
    }

    private enum Admission {
        case admitted
        case queued
        case refused
        case cancelled
    }

    private func acquire() async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // One critical section decides, so a release cannot slip between the check for a
                // free slot and joining the line. Cancellation sets the flag before it runs the
                // handler: either the handler finds this waiter in the line, or this sees the flag.
                let admission = state.withLock { state -> Admission in
                    if Task.isCancelled { return .cancelled }
                    if state.running < limit {
                        state.running += 1
                        return .admitted
                    }
                    guard state.waiting.count < maxWaiters else { return .refused }
                    state.waiting.append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch admission {
                case .admitted: continuation.resume()
                case .queued: break
                case .refused: continuation.resume(throwing: PasswordHashingError.busy)
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let removed = state.withLock { state -> Waiter? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting.remove(at: index)
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    private func release() {
        // The slot passes straight to the first waiter, if any; `running` counts it still.
        let next = state.withLock { state -> Waiter? in
            if state.waiting.isEmpty {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.continuation.resume()
    }
}
