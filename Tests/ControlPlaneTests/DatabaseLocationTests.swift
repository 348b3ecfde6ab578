@testable import ControlPlane
import Testing

/// `--database`: what it accepts and how it refuses.
@Suite struct DatabaseLocationTests {
    static func postgres(_ text: String) throws -> PostgresLocation {
        guard case .postgres(let location) = try DatabaseLocation(parsing: text) else {
            Issue.record("\(text) is not a PostgreSQL location")
            return PostgresLocation(endpoint: .tcp(host: "", port: 0), username: "", database: "")
        }
        return location
    }

    @Test func sqliteNamesAFile() throws {
        #expect(try DatabaseLocation(parsing: "sqlite:./data/arbiter.sqlite") == .sqlite(path: "./data/arbiter.sqlite"))
        #expect(try DatabaseLocation(parsing: "sqlite:/var/lib/arbiter/db.sqlite").kind == "sqlite")
    }

    @Test func postgresURLsNameAServerARoleAndADatabase() throws {
        #expect(try Self.postgres("postgres://arbiter@db.example.com:6432/game") == PostgresLocation(
            endpoint: .tcp(host: "db.example.com", port: 6432), username: "arbiter", database: "game"))
        // The port defaults to 5432, the database to the user's name; postgresql:// is the same.
        #expect(try Self.postgres("postgresql://arbiter@127.0.0.1") == PostgresLocation(
            endpoint: .tcp(host: "127.0.0.1", port: 5432), username: "arbiter", database: "arbiter"))
        #expect(try Self.postgres("postgres://arbiter@[::1]:5433/game").endpoint == .tcp(host: "::1", port: 5433))
        // A password in the URL, percent-encoded as URLs are.
        let withPassword = try Self.postgres("postgres://arbiter:p%40ss%3Aword@db/game")
        #expect(withPassword.password == "p@ss:word")
        #expect(!withPassword.description.contains("p@ss") && !withPassword.description.contains("p%40ss"))
        #expect(withPassword.description == "postgres://arbiter@db:5432/game")
    }

    @Test func tlsIsWhatSslmodeAsksFor() throws {
        #expect(try Self.postgres("postgres://a@db/game").tlsMode == .disable)
        #expect(try Self.postgres("postgres://a@db/game?sslmode=disable").tlsMode == .disable)
        #expect(try Self.postgres("postgres://a@db/game?sslmode=require").tlsMode == .require)
        let full = try Self.postgres("postgres://a@db/game?sslmode=verify-full&sslrootcert=/etc/ssl/db.pem")
        #expect(full.tlsMode == .verifyFull && full.rootCertificatePath == "/etc/ssl/db.pem")
        #expect(full.description == "postgres://a@db:5432/game?sslmode=verify-full")
    }

    @Test func aHostThatIsAFolderIsAUnixSocketDirectory() throws {
        let socket = try Self.postgres("postgres://arbiter@/game?host=/var/run/postgresql")
        #expect(socket.endpoint == .unixSocket(path: "/var/run/postgresql/.s.PGSQL.5432"))
        #expect(socket.description == "postgres://arbiter@/game?host=/var/run/postgresql")
        #expect(try Self.postgres("postgres://arbiter@/game?host=/tmp/pg&port=5433").endpoint == .unixSocket(path: "/tmp/pg/.s.PGSQL.5433"))
        #expect(try Self.postgres("postgres://arbiter@%2Ftmp%2Fpg/game").endpoint == .unixSocket(path: "/tmp/pg/.s.PGSQL.5432"))
    }

    @Test func badLocationsAreRefusedInWords() {
        func reason(_ text: String) -> String? {
            do {
                _ = try DatabaseLocation(parsing: text)
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(reason("mysql://a@db/game") == "must be sqlite:PATH or postgres://USER@HOST[:PORT]/DB")
        #expect(reason("./arbiter.sqlite") == "must be sqlite:PATH or postgres://USER@HOST[:PORT]/DB")
        #expect(reason("sqlite:") == "sqlite: needs a file path (sqlite:./data/arbiter.sqlite)")
        #expect(reason("postgres://db/game") == "names no user (postgres://USER@HOST/DB)")
        #expect(reason("postgres://a@/game") == "names no host (postgres://USER@HOST/DB, or ?host=/socket/dir)")
        #expect(reason("postgres://a@db:0/game") == "has a port outside 1...65535: 0")
        #expect(reason("postgres://a@db/game?sslmode=sometimes")?.hasPrefix("has an unsupported sslmode 'sometimes'") == true)
        #expect(reason("postgres://a@db/game?sslmod=require")?.hasPrefix("has an unknown parameter 'sslmod'") == true)
        #expect(reason("postgres://a@db/game/extra") == "has a database name with a '/' in it: 'game/extra'")
        #expect(reason("postgres://a@/game?host=/tmp&sslmode=require") == "asks for sslmode=require over a Unix socket, which never carries TLS")
        #expect(reason("postgres://a@db:port/game") != nil)
    }
}
