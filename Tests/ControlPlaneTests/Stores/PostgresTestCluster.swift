@testable import ControlPlane
import Foundation
import Logging
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// One throwaway PostgreSQL cluster for the whole test process, started on first use: `initdb`
/// in a temporary folder, the server listening on a Unix socket in that folder only (no TCP
/// port), fsync off. Each test takes a fresh database of it (``freshDatabase()``).
///
/// swift-testing has no global teardown, so a watchdog stops it: a shell, started before the
/// server, that waits for the end of a pipe this process holds open and never closes. When the
/// process exits, however it exits, the kernel closes the pipe; the watchdog then stops the
/// server (`pg_ctl stop -m fast`) and deletes the folder. It ignores SIGINT, so that a Ctrl-C to
/// the test run reaches it only as the pipe's end.
final class PostgresTestCluster: Sendable {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Where the server's binaries are, if PostgreSQL is installed.
    static let binaries: String? = {
        // Debian keeps each version's server in its own folder, off the PATH; elsewhere it may be on it.
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let candidates = versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return candidates.first { folder in
            ["initdb", "pg_ctl", "postgres"].allSatisfy { FileManager.default.isExecutableFile(atPath: folder + "/" + $0) }
        }
    }()

    /// Whether the store suites run against PostgreSQL too: when it is installed, and always
    /// under `tools/test` (ARBITER_REQUIRE_POSTGRES=1), which installs it, so that a missing
    /// server fails there instead of skipping.
    static var isAvailable: Bool {
        binaries != nil || ProcessInfo.processInfo.environment["ARBITER_REQUIRE_POSTGRES"] == "1"
    }

    private static let started: Result<PostgresTestCluster, Unavailable> = {
        do {
            return .success(try PostgresTestCluster())
        } catch let error as Unavailable {
            return .failure(error)
        } catch {
            return .failure(Unavailable(description: "\(error)"))
        }
    }()

    /// The cluster, started on the first call. Starting it blocks for seconds (initdb, pg_ctl),
    /// and every other first caller waits on that start: so they wait on threads of their own,
    /// never on the few cooperative threads that every test in the process shares (blocking
    /// those stalls them all, the servers the other tests run included).
    static func shared() async throws -> PostgresTestCluster {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: started.mapError { $0 as any Error }) }.start()
        }
    }

    let folder: String
    let socketPath: String
    static let superuser = "arbiter"
    /// The write end of the watchdog's pipe: held (never closed) for as long as the process lives.
    private let lifeline: Int32

    private init() throws {
        guard let binaries = Self.binaries else {
            throw Unavailable(description: "PostgreSQL is not installed (no initdb; tools/test installs Debian's postgresql)")
        }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("arbiter-pg-\(getpid())-\(UUID().uuidString.prefix(8))").path
        socketPath = folder + "/.s.PGSQL.5432"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // initdb and the server refuse to run as root: as root, they run as the postgres user.
        let asServerUser: [String]
        if geteuid() == 0 {
            guard let account = getpwnam("postgres") else { throw Unavailable(description: "running as root, and there is no postgres user") }
            guard chown(folder, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
                throw Unavailable(description: "cannot hand \(folder) to the postgres user")
            }
            asServerUser = ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]
        } else {
            asServerUser = []
        }
        let data = folder + "/data"
        let stop = (asServerUser + ["\(binaries)/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]).map(Self.quoted).joined(separator: " ")
        // No other child may inherit the pipe's write end, or it would outlive this process.
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw Unavailable(description: "cannot make a pipe: \(String(cString: strerror(errno)))") }
        // (pipe2 with O_CLOEXEC is not imported; a child spawned by another test between these
        // lines would hold the end only until it exits.)
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        lifeline = ends[1]
        let watchdog = "trap '' INT TERM HUP; cat >/dev/null; \(stop) >/dev/null 2>&1; rm -rf \(Self.quoted(folder))"
        _ = try Self.spawn(["/bin/sh", "-c", watchdog], standardInput: ends[0])
        close(ends[0])

        func asServer(_ tool: String, _ arguments: [String]) -> [String] { asServerUser + ["\(binaries)/\(tool)"] + arguments }
        let initdb = asServer("initdb", ["-D", data, "-U", Self.superuser, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"])
        try Self.run(initdb, log: folder + "/initdb.log")
        let options = "-c listen_addresses='' -k \(folder) -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400"
        // -w: pg_ctl returns once the server accepts connections.
        let start = asServer("pg_ctl", ["-D", data, "-l", folder + "/server.log", "-w", "-o", options, "start"])
        do {
            try Self.run(start, log: folder + "/pg_ctl.log")
        } catch {
            let log = (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? ""
            throw Unavailable(description: "\(error)\n\(log)")
        }
    }

    /// A new, empty database on the cluster, not yet migrated; its pool is not running.
    func freshDatabase(maximumConnections: Int = 8) async throws -> ControlPlane.PostgresDatabase {
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await createDatabase(name)
        return try ControlPlane.PostgresDatabase(location: location(database: name), maximumConnections: maximumConnections, logger: Self.logger)
    }

    func location(database: String) -> PostgresLocation {
        PostgresLocation(endpoint: .unixSocket(path: socketPath), username: Self.superuser, database: database)
    }

    func createDatabase(_ name: String) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: .init(unixSocketPath: socketPath, username: Self.superuser, password: nil, database: "postgres"), id: 0,
            logger: Self.logger)
        do {
            try await connection.run(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Self.logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// Warnings and worse: a pool closed at a test's end logs its cancelled connects at info.
    static let logger: Logger = {
        var logger = Logger(label: "arbiter.tests.postgres")
        logger.logLevel = .warning
        return logger
    }()

    private static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Starts a program with only its standard descriptors (posix_spawn: Foundation's Process is
    /// not used, its reaping of children hangs here when the cooperative threads are all busy);
    /// returns its pid.
    private static func spawn(_ command: [String], standardInput: Int32? = nil, output: Int32? = nil) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardInput { posix_spawn_file_actions_adddup2(&actions, standardInput, 0) } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if let output {
            posix_spawn_file_actions_adddup2(&actions, output, 1)
            posix_spawn_file_actions_adddup2(&actions, output, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        // Nothing else of this process: the server outlives every test, and a socket another test
        // had open at this moment (not every library sets close-on-exec) would stay open in it,
        // so that test's server would wait for ever for that connection to close.
        guard Self.addCloseFrom(&actions, 3) == 0 else { throw Unavailable(description: "cannot close inherited descriptors") }
        let argv = command.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard status == 0 else { throw Unavailable(description: "cannot start \(command[0]): \(String(cString: strerror(status)))") }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34), which Swift's Glibc module does
    /// not import: looked up once, called with the C convention.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return { _, _ in ENOSYS }
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// Runs a program to its end, its output into `log`; ``Unavailable`` with that output when it fails.
    private static func run(_ command: [String], log: String) throws {
        let descriptor = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Unavailable(description: "cannot write \(log)") }
        defer { close(descriptor) }
        let pid = try spawn(command, output: descriptor)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Unavailable(description: "cannot wait for \(command[0]): \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED and WEXITSTATUS, which Swift does not import.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Unavailable(description: "\(command.joined(separator: " ")) failed (status \(status)):\n\(text)")
        }
    }
}
