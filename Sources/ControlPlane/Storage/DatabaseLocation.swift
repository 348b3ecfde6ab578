import Foundation

/// Where the control port keeps its data: an SQLite file, or a PostgreSQL database given as a
/// libpq-style URL (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=...&host=/socket/dir]`).
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// Why a location could not be read, in words fit for a one-line error.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// `sqlite:PATH`, `postgres://...` or `postgresql://...`.
    public init(parsing text: String) throws(ParseError) {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw ParseError(reason: "sqlite: needs a file path (sqlite:./data/arbiter.sqlite)") }
            self = .sqlite(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(parsing: text))
        } else {
            throw ParseError(reason: "must be sqlite:PATH or postgres://USER@HOST[:PORT]/DB")
        }
    }

    /// "sqlite" or "postgres".
    public var kind: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// The location with any password left out.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:" + path
        case .postgres(let location): location.description
        }
    }
}

/// A PostgreSQL server, database and role, as a `postgres://` URL names them.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// How to reach the server.
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The server's socket file (libpq's `host=/dir` names the directory; the file in it is
        /// `.s.PGSQL.PORT`).
        case unixSocket(path: String)
    }

    /// libpq's `sslmode`, of which these are supported. Absent means ``disable``.
    public enum TLSMode: String, Sendable, Equatable, CaseIterable {
        case disable
        /// TLS if the server offers it, else plain.
        case prefer
        /// TLS, without checking the server's certificate (libpq's meaning).
        case require
        /// TLS with a certificate signed by a trusted root, whatever name it gives.
        case verifyCA = "verify-ca"
        /// TLS with a trusted certificate for the host named.
        case verifyFull = "verify-full"
    }

    public var endpoint: Endpoint
    public var username: String
    /// From the URL, if it holds one (else PGPASSWORD or a file: see `arbiter serve --help`).
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    /// `sslrootcert`: a PEM file of the roots to trust (default: the system's).
    public var rootCertificatePath: String?

    public init(
        endpoint: Endpoint, username: String, password: String? = nil, database: String, tlsMode: TLSMode = .disable,
        rootCertificatePath: String? = nil
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.rootCertificatePath = rootCertificatePath
    }

    /// The query parameters understood; any other is refused rather than silently ignored.
    static let parameters: Set<String> = ["sslmode", "host", "port", "user", "password", "dbname", "sslrootcert"]

    init(parsing text: String) throws(DatabaseLocation.ParseError) {
        func fail(_ reason: String) -> DatabaseLocation.ParseError { DatabaseLocation.ParseError(reason: reason) }
        guard let components = URLComponents(string: text) else { throw fail("is not a valid URL") }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard Self.parameters.contains(item.name) else {
                throw fail("has an unknown parameter '\(item.name)' (known: \(Self.parameters.sorted().joined(separator: ", ")))")
            }
            guard let value = item.value, !value.isEmpty else { throw fail("has an empty parameter '\(item.name)'") }
            query[item.name] = value
        }
        guard let username = query["user"] ?? components.user.flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw fail("names no user (postgres://USER@HOST/DB)")
        }
        var port = components.port ?? 5432
        if let text = query["port"] {
            guard let value = Int(text) else { throw fail("has a port that is not a number: '\(text)'") }
            port = value
        }
        guard (1...65_535).contains(port) else { throw fail("has a port outside 1...65535: \(port)") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.contains("/") else { throw fail("has a database name with a '/' in it: '\(path)'") }
        let database = query["dbname"] ?? (path.isEmpty ? username : path)
        // A host that is a path (given as host=/dir, or percent-encoded in the URL) is a socket
        // directory, as with libpq.
        let host = query["host"] ?? components.host ?? ""
        let endpoint: Endpoint
        if host.hasPrefix("/") {
            endpoint = .unixSocket(path: (host as NSString).appendingPathComponent(".s.PGSQL.\(port)"))
        } else if host.isEmpty {
            throw fail("names no host (postgres://USER@HOST/DB, or ?host=/socket/dir)")
        } else {
            endpoint = .tcp(host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: port)
        }
        let modeText = query["sslmode"] ?? TLSMode.disable.rawValue
        guard let tlsMode = TLSMode(rawValue: modeText) else {
            throw fail("has an unsupported sslmode '\(modeText)' (supported: \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if case .unixSocket = endpoint, tlsMode != .disable, tlsMode != .prefer {
            throw fail("asks for sslmode=\(tlsMode.rawValue) over a Unix socket, which never carries TLS")
        }
        self.init(
            endpoint: endpoint, username: username, password: query["password"] ?? components.password, database: database,
            tlsMode: tlsMode, rootCertificatePath: query["sslrootcert"])
    }

    /// The URL without its password.
    public var description: String {
        var query: [String] = []
        let authority: String
        switch endpoint {
        case .tcp(let host, let port): authority = (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
        case .unixSocket(let path):
            authority = ""
            query.append("host=" + (path as NSString).deletingLastPathComponent)
            let file = (path as NSString).lastPathComponent
            if file != ".s.PGSQL.5432" { query.append("port=" + file.dropFirst(".s.PGSQL.".count)) }
        }
        if tlsMode != .disable { query.append("sslmode=" + tlsMode.rawValue) }
        return "postgres://\(username)@\(authority)/\(database)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }
}
