import ControlPlane
import Foundation
import GameRuntime
import Hummingbird
import HummingbirdTesting
import MatchContract
import Testing

@Suite struct WebPagesTests {
    /// A `Clients` folder made for the test: pages, a module, node tests that must not be
    /// served, a file of a type that is not served, and a secret beside the folder.
    static func makeFolder() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("web-pages-\(UUID().uuidString)")
        let clients = root.appendingPathComponent("Clients")
        for folder in ["web", "js/test/vectors", "js/test-support"] {
            try FileManager.default.createDirectory(at: clients.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let files = [
            "web/play.html": "<!doctype html><title>play</title>",
            "web/console.html": "<!doctype html><title>console</title>",
            "web/style.css": "body { margin: 0 }",
            "web/notes.txt": "not a served type",
            "js/arbiter.js": "export const answer = 42;\n",
            "js/test/arbiter.test.js": "test",
            "js/test/vectors/snapshots.json": "{}",
            "js/test-support/fake.js": "fake",
        ]
        for (path, text) in files { try Data(text.utf8).write(to: clients.appendingPathComponent(path)) }
        try Data("secret".utf8).write(to: root.appendingPathComponent("transport.key"))
        return clients
    }

    @Test func servesThePagesAndModulesWithTheirTypes() async throws {
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let pages = try WebPages.load(root: folder.path)
        #expect(pages.paths == ["/console", "/js/arbiter.js", "/play", "/web/console.html", "/web/play.html", "/web/style.css"])
        let plane = try await TestControlPlane(web: pages)
        try await plane.application.test(.router) { client in
            for (path, type, text) in [
                ("/play", "text/html; charset=utf-8", "<title>play</title>"),
                ("/console", "text/html; charset=utf-8", "<title>console</title>"),
                ("/js/arbiter.js", "text/javascript; charset=utf-8", "answer = 42"),
                ("/web/style.css", "text/css; charset=utf-8", "margin"),
            ] {
                let reply = try await client.call(.get, path)
                #expect(reply.status == .ok, "\(path)")
                #expect(reply.headers[.contentType] == type, "\(path)")
                #expect(String(decoding: reply.body, as: UTF8.self).contains(text), "\(path)")
                #expect(reply.headers[.cacheControl] == "no-cache")
                #expect(reply.headers[.xContentTypeOptions] == "nosniff")
            }
            let page = try await client.call(.get, "/play")
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
        }
    }

    /// A browser revalidates with the tag it was given: 304 and no body while the file is the
    /// same, the file again for any other tag.
    @Test func revalidationByEntityTag() async throws {
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let plane = try await TestControlPlane(web: try WebPages.load(root: folder.path))
        try await plane.application.test(.router) { client in
            let first = try await client.call(.get, "/js/arbiter.js")
            let tag = try #require(first.headers[.eTag])
            var headers = HTTPFields()
            headers[.ifNoneMatch] = tag
            let again = try await client.execute(uri: "/js/arbiter.js", method: .get, headers: headers) { ($0.status, $0.body.readableBytes) }
            #expect(again.0 == .notModified)
            #expect(again.1 == 0)
            headers[.ifNoneMatch] = "\"something-else\""
            #expect(try await client.execute(uri: "/js/arbiter.js", method: .get, headers: headers) { $0.status } == .ok)
        }
    }

    /// Nothing outside the table is reachable: parent steps (plain and encoded), the node tests,
    /// unserved types, folders and absolute paths are 404 in the API's error shape.
    @Test func noTraversalAndUnknownFilesAreNotFound() async throws {
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        let plane = try await TestControlPlane(web: try WebPages.load(root: folder.path))
        try await plane.application.test(.router) { client in
            for path in [
                "/js/../../transport.key", "/web/../../transport.key", "/js/%2e%2e/%2e%2e/transport.key", "/js/..%2f..%2ftransport.key",
                "/web/%2E%2E/web/play.html", "/js/test/arbiter.test.js", "/js/test/vectors/snapshots.json", "/js/test-support/fake.js",
                "/web/notes.txt", "/web/", "/js/", "/js//etc/passwd", "/web/nope.js", "/play/", "/play.html", "/js/arbiter.js/",
            ] {
                let reply = try await client.call(.get, path)
                #expect(reply.status == .notFound, "\(path)")
                #expect(reply.errorCode == "not_found", "\(path)")
                #expect(!String(decoding: reply.body, as: UTF8.self).contains("secret"), "\(path)")
            }
        }
    }

    @Test func withoutPagesTheAnswerSaysHowToNameThem() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let reply = try await client.call(.get, "/play")
            #expect(reply.status == .notFound)
            #expect(reply.errorCode == "not_found")
            #expect(((reply["error"] as? [String: Any])?["message"] as? String)?.contains("--web-root") == true)
        }
    }

    @Test func loadRefusesAFolderWithoutThePlayPage() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("web-pages-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(throws: WebPagesError.self) { try WebPages.load(root: empty.path) }
    }

    /// An executable under `.build/<triple>/debug` in a checkout finds the checkout's Clients
    /// folder; so does one run from the checkout with nothing above it.
    @Test func locatesTheClientsFolderOfACheckout() throws {
        let folder = try Self.makeFolder()
        let checkout = folder.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: checkout) }
        let executable = checkout.appendingPathComponent(".build/x86_64-unknown-linux-gnu/debug/arbiter").path
        let found = WebPages.locate(candidates: WebPages.candidates(executablePath: executable, workingDirectory: "/nonexistent"))
        #expect(found == folder.standardizedFileURL.path)
        #expect(WebPages.locate(candidates: WebPages.candidates(executablePath: "/usr/bin/arbiter", workingDirectory: checkout.path))
            == folder.standardizedFileURL.path)
        #expect(WebPages.locate(candidates: ["/nonexistent"]) == nil)
    }

    /// The repository's own pages: every module a page or module imports is served, so that
    /// /play and /console load in a browser with nothing missing.
    @Test func theRepositoryPagesImportOnlyServedModules() throws {
        let clients = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Clients")
        let pages = try WebPages.load(root: clients.path)
        let served = Set(pages.paths)
        for required in ["/play", "/console", "/js/arbiter.js", "/web/play.js", "/web/console.js", "/web/shared.js", "/web/style.css"] {
            #expect(served.contains(required), "\(required)")
        }
        let pattern = try Regex(#"(?:from\s+|import\s+|src=|href=)['"]([^'"]+\.(?:js|css))['"]"#)
        for path in served where path.hasSuffix(".js") || path.hasSuffix(".html") {
            let file = path.hasPrefix("/js/") ? "js/" + path.dropFirst(4) : (path.hasPrefix("/web/") ? "web/" + path.dropFirst(5) : nil)
            guard let file else { continue }
            let text = try String(contentsOf: clients.appendingPathComponent(String(file)), encoding: .utf8)
            for match in text.matches(of: pattern) {
                let reference = String(match.output[1].substring ?? "")
                let resolved = URL(string: reference, relativeTo: URL(string: "http://host" + path))?.path ?? reference
                #expect(served.contains(resolved), "\(path) imports \(reference), which is not served")
            }
        }
    }

    /// The console's data: 401 without a session, 403 for a player who is not an operator, and
    /// for an operator (named in any case) the running matches with their players, the game
    /// server's figures, the global board and the lobby's chat.
    @Test func consoleOverviewIsForOperatorsOnly() async throws {
        let board = GameServerStatsBoard()
        let plane = try await TestControlPlane(operators: ["Root_Op"], observability: Observability(serverStats: { board.current }))
        try await plane.application.test(.router) { client in
            let op = try await client.register("root_op")
            let player = try await client.register("plain")
            #expect(try await client.call(.get, "/v1/console/overview").status == .unauthorized)
            let refused = try await client.call(.get, "/v1/console/overview", token: player.token)
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "forbidden")
            #expect((try await client.call(.get, "/v1/me", token: op.token)["operator"] as? Bool) == true)
            #expect((try await client.call(.get, "/v1/me", token: player.token)["operator"] as? Bool) == false)

            let game = try await client.call(.post, "/v1/games", token: player.token, json: ["name": "watched"])
            let gameID = try #require(game.int("id"))
            let join = try await client.call(.post, "/v1/games/\(gameID)/join", token: player.token)
            #expect(join.status == .ok)
            let overview = try await client.call(.get, "/v1/console/overview", token: op.token)
            #expect(overview.status == .ok)
            let matches = try #require(overview["matches"] as? [[String: Any]])
            #expect(matches.count == 1)
            #expect(matches.first?["game_id"] as? Int == gameID)
            #expect(matches.first?["game_name"] as? String == "watched")
            #expect(matches.first?["match_id"] as? Int == join.int("match_id"))
            #expect(matches.first?["live"] as? Bool == true)
            #expect((overview["server"] as? [String: Any])?["tick"] != nil)
            #expect(overview["leaderboard"] is [Any])
            #expect(overview["recent_chat"] is [Any])
        }
    }
}
