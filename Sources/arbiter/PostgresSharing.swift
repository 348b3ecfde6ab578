import ControlPlane
import Foundation
import ServiceLifecycle

/// What `arbiter serve` adds on PostgreSQL so that several instances share one database
/// correctly: this instance's registration and heartbeat, presence and the abuse budgets in
/// tables (``PostgresSharedTables``), and its in-process game server in the match directory
/// (``DirectoryMatchHosting``, kept current by ``MatchDirectoryPublisher``).
///
/// On PostgreSQL, the start-up sweep that closes every running session as abandoned
/// (`ResultsRecorder.abandonInterruptedMatches`) must not run: the other instances' matches
/// are running. A session whose match no live game server lists is closed by the first join
/// that finds it (the join route abandons it and starts another), or by the match janitor.
struct PostgresSharing {
    let tables: PostgresSharedTables
    let hosting: DirectoryMatchHosting
    let publisher: MatchDirectoryPublisher

    init(database: PostgresDatabase, local: InProcessMatchHost, limits: ControlPortLimits) {
        let instance = ControlInstance(database: database)
        let directory = PostgresMatchDirectory(instance: instance)
        tables = PostgresSharedTables(instance: instance, limits: limits, directory: directory)
        hosting = DirectoryMatchHosting(local: local, directory: directory)
        publisher = MatchDirectoryPublisher(directory: directory, local: local)
    }

    /// The services to run beside the control port (the database's pool outlives them, so that
    /// the instance deregisters at a graceful shutdown).
    var services: [ServiceGroupConfiguration.ServiceConfiguration] {
        [.init(service: tables.maintenance), .init(service: publisher)]
    }
}
