import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import ServiceLifecycle

/// The control port's database on a PostgreSQL server: a pool of connections (postgres-nio's
/// `PostgresClient`), with the same schema in spirit as ``AppDatabase`` and its own named,
/// append-only migrations (``PostgresMigrations``). Every query binds its arguments.
///
/// The pool works only while ``run()`` runs: as a `Service` in a `ServiceGroup`, or in a task of
/// its own (``whileRunning(_:)`` does that around a closure). ``migrate()`` needs no running
/// pool: it uses a connection of its own, so that a server that cannot be reached is reported
/// at once and in words (``ConnectionFailure``).
public final class PostgresDatabase: Service, Sendable {
    let client: PostgresClient
    let location: PostgresLocation
    let logger: Logger
    private let connectionConfiguration: PostgresConnection.Configuration

    /// The server could not be reached, refused the login, or has no such database: a reason in
    /// one line (never the password).
    public struct ConnectionFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A pool on `location`, with `password` when the URL holds none. Throws
    /// ``ConnectionFailure`` only for a TLS setting that cannot be built (an unreadable or
    /// malformed `sslrootcert`); nothing connects yet.
    public init(location: PostgresLocation, password: String? = nil, maximumConnections: Int = 20, logger: Logger = Logger(label: "arbiter.postgres"))
        throws
    {
        self.location = location
        self.logger = logger
        let password = location.password ?? password
        var clientConfiguration: PostgresClient.Configuration
        switch location.endpoint {
        case .tcp(let host, let port):
            let tls = try Self.tlsConfiguration(for: location)
            let clientTLS: PostgresClient.Configuration.TLS
            let connectionTLS: PostgresConnection.Configuration.TLS
            switch location.tlsMode {
            case .disable:
                clientTLS = .disable
                connectionTLS = .disable
            case .prefer:
                clientTLS = .prefer(tls)
                connectionTLS = .prefer(try Self.context(tls))
            case .require, .verifyCA, .verifyFull:
                clientTLS = .require(tls)
                connectionTLS = .require(try Self.context(tls))
            }
            clientConfiguration = .init(
                host: host, port: port, username: location.username, password: password, database: location.database, tls: clientTLS)
            connectionConfiguration = .init(
                host: host, port: port, username: location.username, password: password, database: location.database, tls: connectionTLS)
        case .unixSocket(let path):
            clientConfiguration = .init(unixSocketPath: path, username: location.username, password: password, database: location.database)
            connectionConfiguration = .init(unixSocketPath: path, username: location.username, password: password, database: location.database)
        }
        clientConfiguration.options.maximumConnections = maximumConnections
        client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
    }

    /// libpq's meanings: `require` encrypts without checking the certificate, `verify-ca` checks
    /// it is signed by a trusted root, `verify-full` also that it names the host.
    private static func tlsConfiguration(for location: PostgresLocation) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch location.tlsMode {
        case .disable, .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let roots = location.rootCertificatePath {
            guard FileManager.default.isReadableFile(atPath: roots) else {
                throw ConnectionFailure(description: "cannot read sslrootcert \(roots)")
            }
            tls.trustRoots = .file(roots)
        }
        return tls
    }

    private static func context(_ tls: TLSConfiguration) throws -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw ConnectionFailure(description: "cannot set up TLS to the database: \(error)")
        }
    }

    /// Runs the pool until the task is cancelled or the service group shuts down.
    public func run() async throws {
        await client.run()
    }

    /// Runs the pool for as long as `body` runs.
    public func whileRunning<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await self.client.run()
                return nil
            }
            do {
                let result = try await body()
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// Applies the migrations not yet applied, on a connection of its own (see
    /// ``PostgresMigrations/apply(on:logger:)``). Throws ``ConnectionFailure`` when the server
    /// cannot be reached or refuses. Returns the names of the migrations it applied.
    @discardableResult
    public func migrate() async throws -> [String] {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: connectionConfiguration, id: 0, logger: logger)
        } catch {
            throw ConnectionFailure(description: "cannot connect to the database \(location): \(Self.reason(error))")
        }
        do {
            let applied = try await PostgresMigrations.apply(on: connection, logger: logger)
            try await connection.close()
            return applied
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// A PSQLError's reason: the server's message, or the network's (its description hides both).
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return networkReason(underlying) }
        switch error.code {
        case .sslUnsupported: return "the server does not support TLS (sslmode asks for it)"
        case .authMechanismRequiresPassword: return "the server asks for a password (PGPASSWORD or --database-password-file)"
        case .unsupportedAuthMechanism: return "the server asks for an authentication method postgres-nio does not support"
        default: return "\(error.code)"
        }
    }

    /// "connection refused", "no such file or directory" (a socket), "cannot resolve db.example".
    private static func networkReason(_ error: any Error) -> String {
        if let failure = error as? NIOConnectionError {
            if failure.dnsAError != nil || failure.dnsAAAAError != nil { return "cannot resolve \(failure.host)" }
            if let first = failure.connectionErrors.first { return networkReason(first.error) }
        }
        if let failure = error as? IOError {
            let text = String(cString: strerror(failure.errnoCode))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
        return "\(error)"
    }

    /// Runs `body` in a transaction (READ COMMITTED: every store takes the row locks it needs),
    /// committed when it returns and rolled back when it throws, rethrowing what it threw.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// The rows of one statement outside any transaction.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await client.query(query, logger: logger).collect()
    }
}

/// What a store found that its constraints should have made impossible (a bug, not bad input).
struct PostgresStoreInconsistency: Error, CustomStringConvertible {
    var what: String
    var description: String { "database inconsistency: \(what)" }
}

extension PostgresConnection {
    /// The rows of one statement.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }

    /// Runs one statement and discards its rows.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        _ = try await self.query(query, logger: logger).collect()
    }
}

extension PSQLError {
    /// The SQLSTATE of a server error (its structured field, not its text).
    var sqlState: String? { serverInfo?[.sqlState] }
    /// The constraint a server error names (its structured field).
    var constraintName: String? { serverInfo?[.constraintName] }
}
