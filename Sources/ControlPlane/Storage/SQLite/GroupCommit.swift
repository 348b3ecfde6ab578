import GRDB
import Synchronization

/// Runs small write transactions of many concurrent callers in one SQLite transaction: while
/// one batch commits, the writes that arrive wait, then all of them go in the next one, each in
/// a savepoint of its own (a write that throws rolls back alone and throws to its caller). Each
/// caller's result is handed back only once its batch has committed; a failed commit fails the
/// whole batch. SQLite has one writer, and on a resume storm each rotation's own transaction
/// wrote the same few B-tree pages to the WAL again (and brought the next checkpoint's fsync
/// closer): a batch writes them once. Serial order is kept: a batch runs its writes in the
/// order they arrived, so two writes that see each other's rows (a token rotated twice) behave
/// as they would one after the other.
public final class GroupCommit: Sendable {
    private let writer: any DatabaseWriter
    /// Writes per transaction at most, so that one batch does not hold the writer for long.
    private let maxBatch: Int
    private let state = Mutex(State())

    private struct State {
        var waiting: [any PendingWrite] = []
        var draining = false
    }

    init(writer: any DatabaseWriter, maxBatch: Int = 128) {
        self.writer = writer
        self.maxBatch = maxBatch
    }

    /// Runs `body` in a savepoint of the next batch's transaction; returns what it returned once
    /// the batch has committed.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let write = Write(body: body, continuation: continuation)
            let startsDrain = state.withLock { state in
                state.waiting.append(write)
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if startsDrain { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch: [any PendingWrite] = state.withLock { state in
                let batch = Array(state.waiting.prefix(maxBatch))
                state.waiting.removeFirst(batch.count)
                if batch.isEmpty { state.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                try await writer.write { db in
                    for write in batch { write.run(in: db) }
                }
                for write in batch { write.committed() }
            } catch {
                for write in batch { write.failed(error) }
            }
        }
    }
}

/// One caller's write in a batch: run on the writer's thread, then told how its batch ended.
private protocol PendingWrite: Sendable {
    func run(in db: Database)
    func committed()
    func failed(_ error: any Error)
}

/// Its outcome is set on the writer's thread inside the transaction and read after the batch's
/// `write` has returned, which orders the two.
private final class Write<T: Sendable>: PendingWrite, @unchecked Sendable {
    private let body: @Sendable (Database) throws -> T
    private let continuation: CheckedContinuation<T, any Error>
    private var outcome: Result<T, any Error>?

    init(body: @escaping @Sendable (Database) throws -> T, continuation: CheckedContinuation<T, any Error>) {
        self.body = body
        self.continuation = continuation
    }

    func run(in db: Database) {
        do {
            var value: T?
            try db.inSavepoint {
                value = try body(db)
                return .commit
            }
            outcome = value.map { .success($0) } ?? .failure(DatabaseError(resultCode: .SQLITE_INTERNAL, message: "the savepoint ran without a result"))
        } catch {
            outcome = .failure(error)
        }
    }

    func committed() {
        continuation.resume(with: outcome ?? .failure(DatabaseError(resultCode: .SQLITE_INTERNAL, message: "the batch committed without running this write")))
    }

    func failed(_ error: any Error) { continuation.resume(throwing: error) }
}
