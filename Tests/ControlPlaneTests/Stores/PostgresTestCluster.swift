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
        var candidates: [String] = []
        if let fromConfig = try? run("/bin/sh", ["-c", "pg_config --bindir 2>/dev/null"]).trimmingCharacters(in: .whitespacesAndNewlines),
            !fromConfig.isEmpty
        {
            candidates.append(fromConfig)
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        candidates += versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
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

    /// The cluster, started on the first call.
    static func shared() throws -> PostgresTestCluster { try started.get() }

    let folder: String
    let socketPath: String
    static let superuser = "arbiter"
    /// The watchdog's end of the pipe: held (never closed) for as long as the process lives.
    private let lifeline: FileHandle

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
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = [
            "-c", "trap '' INT TERM HUP; cat >/dev/null; \(stop) >/dev/null 2>&1; rm -rf \(Self.quoted(folder))",
        ]
        let pipe = Pipe()
        watchdog.standardInput = pipe
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        // No other child may inherit the pipe's write end, or it would outlive this process.
        _ = fcntl(pipe.fileHandleForWriting.fileDescriptor, F_SETFD, FD_CLOEXEC)
        try watchdog.run()
        lifeline = pipe.fileHandleForWriting

        func asServer(_ tool: String, _ arguments: [String]) -> (String, [String]) {
            let command = asServerUser + ["\(binaries)/\(tool)"] + arguments
            return (command[0], Array(command.dropFirst()))
        }
        let initdb = asServer("initdb", ["-D", data, "-U", Self.superuser, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"])
        try Self.run(initdb.0, initdb.1)
        let options = "-c listen_addresses='' -k \(folder) -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400"
        // -w: pg_ctl returns once the server accepts connections. Its output is not captured:
        // the server it starts would hold the pipe open.
        let start = asServer("pg_ctl", ["-D", data, "-l", folder + "/server.log", "-w", "-o", options, "start"])
        do {
            try Self.run(start.0, start.1, capture: false)
        } catch {
            let log = (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? ""
            throw Unavailable(description: "\(error)\n\(log)")
        }
    }

    /// A new, empty database on the cluster, not yet migrated; its pool is not running.
    func freshDatabase(maximumConnections: Int = 8) async throws -> PostgresDatabase {
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await createDatabase(name)
        return try PostgresDatabase(location: location(database: name), maximumConnections: maximumConnections, logger: Self.logger)
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

    static let logger = Logger(label: "arbiter.tests.postgres")

    private static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Runs a program to its end; its output, or ``Unavailable`` with that output when it fails.
    @discardableResult
    private static func run(_ executable: String, _ arguments: [String], capture: Bool = true) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = capture ? output : FileHandle.nullDevice
        process.standardError = capture ? output : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = capture ? String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) : ""
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Unavailable(description: "\(([executable] + arguments).joined(separator: " ")) failed (exit \(process.terminationStatus)) \(text)")
        }
        return text
    }
}
