@testable import ControlPlane
import Foundation
import GRDB
import Testing

/// ``GroupCommit``: concurrent writes share transactions, each keeps its own outcome.
@Suite struct GroupCommitTests {
    struct Refused: Error {}

    @Test func concurrentWritesCommitTogetherAndAFailingOneRollsBackAlone() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-group-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pool = try DatabasePool(path: folder + "/group.sqlite")
        try await pool.write { db in try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)") }
        let commit = GroupCommit(writer: pool, maxBatch: 16)
        let results = try await withThrowingTaskGroup(of: (Int, Int64?).self) { group in
            for index in 0..<300 {
                group.addTask {
                    do {
                        let id = try await commit.write { db -> Int64 in
                            try db.execute(sql: "INSERT INTO t (value) VALUES (?)", arguments: [index])
                            // Every seventh writes its row, then refuses: its row must not stay.
                            if index % 7 == 3 { throw Refused() }
                            return db.lastInsertedRowID
                        }
                        return (index, id)
                    } catch is Refused {
                        return (index, nil)
                    }
                }
            }
            var results: [Int: Int64?] = [:]
            for try await (index, id) in group { results[index] = id }
            return results
        }
        #expect(results.count == 300)
        let refused = results.filter { $0.value == nil }.keys.sorted()
        #expect(refused == (0..<300).filter { $0 % 7 == 3 })
        let stored = try pool.read { db in try Row.fetchAll(db, sql: "SELECT id, value FROM t ORDER BY id") }
        #expect(stored.count == 300 - refused.count)
        // Each caller got the id of its own row.
        let valueByID = Dictionary(uniqueKeysWithValues: stored.map { (($0["id"] as Int64), ($0["value"] as Int)) })
        for (index, id) in results { if let id { #expect(valueByID[id] == index) } }
    }

    @Test func aFailedCommitFailsEveryWriteOfItsBatch() async throws {
        let queue = try DatabaseQueue()
        try await queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
            // Deferred: checked at commit, so the whole transaction's commit fails.
            try db.execute(sql: "CREATE TABLE child (parent INTEGER REFERENCES t DEFERRABLE INITIALLY DEFERRED)")
        }
        let commit = GroupCommit(writer: queue)
        await #expect(throws: DatabaseError.self) {
            try await commit.write { db in try db.execute(sql: "INSERT INTO child VALUES (42)") }
        }
        #expect(try await queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM child") } == 0)
        // And the next batch works.
        #expect(try await commit.write { db in try db.execute(sql: "INSERT INTO t (value) VALUES (1)"); return 1 } == 1)
    }
}
