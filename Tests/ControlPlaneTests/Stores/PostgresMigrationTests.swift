@testable import ControlPlane
import Foundation
import Testing

/// What the PostgreSQL migrations themselves promise, beneath the stores.
@Suite(.enabled(if: PostgresTestCluster.isAvailable)) struct PostgresMigrationTests {
    @Test func controlPortsMigratingOneFreshDatabaseAtOnceApplyEachMigrationOnce() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let name = "migrate_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await cluster.createDatabase(name)
        let ports = try (0..<4).map { _ in try PostgresDatabase(location: cluster.location(database: name), logger: PostgresTestCluster.logger) }
        let applied = try await withThrowingTaskGroup(of: [String].self) { group in
            for port in ports { group.addTask { try await port.migrate() } }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        // One of them applied everything; the others, waiting on the lock, found nothing to do.
        let everything = PostgresMigrations.all.map(\.name)
        #expect(applied.filter { $0 == everything }.count == 1)
        #expect(applied.filter(\.isEmpty).count == ports.count - 1)

        let database = ports[0]
        let counts = try await database.whileRunning {
            try await database.rows("SELECT name, count(*) FROM arbiter_migrations GROUP BY name ORDER BY name")
                .map { try $0.decode((String, Int).self) }
        }
        #expect(counts.map(\.0) == everything.sorted())
        #expect(counts.allSatisfy { $0.1 == 1 })
        // A restart finds nothing to apply.
        #expect(try await database.migrate().isEmpty)
    }

    @Test func anUnreachableServerIsReportedInOneLine() async throws {
        let nowhere = PostgresLocation(endpoint: .unixSocket(path: "/nonexistent/.s.PGSQL.5432"), username: "arbiter", database: "arbiter")
        do {
            try await PostgresDatabase(location: nowhere).migrate()
            Issue.record("migrating a database that does not exist succeeded")
        } catch let failure as PostgresDatabase.ConnectionFailure {
            #expect(failure.description.hasPrefix("cannot connect to the database postgres://arbiter@/arbiter?host=/nonexistent: "))
            #expect(!failure.description.contains("\n"))
        }
        let cluster = try await PostgresTestCluster.shared()
        do {
            try await PostgresDatabase(location: cluster.location(database: "no_such_database")).migrate()
            Issue.record("migrating a database that does not exist succeeded")
        } catch let failure as PostgresDatabase.ConnectionFailure {
            #expect(failure.description.hasSuffix("database \"no_such_database\" does not exist"))
        }
    }
}
