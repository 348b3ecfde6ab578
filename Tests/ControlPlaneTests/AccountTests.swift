import ControlPlane
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct AccountTests {
    @Test func migrationsRunOnAnEmptyDatabaseAndAgain() throws {
        let queue = try DatabaseQueue()
        _ = try AppDatabase(queue)
        _ = try AppDatabase(queue)
        let tables = try queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
        for table in ["players", "games", "game_sessions", "player_game_sessions", "auth_sessions", "friendships", "invites",
                      "game_members", "leaderboards", "leaderboard_entries", "player_statistics", "chat_messages"] {
            #expect(tables.contains(table), "missing table \(table)")
        }
        let foreignKeys = try queue.read { db in try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") }
        #expect(foreignKeys == true)
    }

    @Test func registerLogInReadAndUpdateProfile() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let created = try await client.call(.post, "/v1/accounts", json: ["username": "Alice_1", "email": " Alice@Example.COM ", "password": "hunter2hunter2", "display_name": "Ally"])
            #expect(created.status == .created)
            let token = try #require(created.string("token"))
            #expect(token.count == 43)
            let me = try await client.call(.get, "/v1/me", token: token)
            #expect(me.status == .ok)
            #expect(me.string("email") == "alice@example.com")
            #expect(me.string("display_name") == "Ally")

            let login = try await client.call(.post, "/v1/sessions", json: ["username": "alice_1", "password": "hunter2hunter2"])
            #expect(login.status == .ok)
            let second = try #require(login.string("token"))

            let patched = try await client.call(.patch, "/v1/me", token: second, json: ["display_name": "Alice the Great"])
            #expect(patched.string("display_name") == "Alice the Great")

            let refreshed = try await client.call(.post, "/v1/sessions/refresh", token: second)
            let third = try #require(refreshed.string("token"))
            #expect(try await client.call(.get, "/v1/me", token: second).status == .unauthorized)
            #expect(try await client.call(.get, "/v1/me", token: third).status == .ok)
            #expect(try await client.call(.delete, "/v1/sessions/current", token: third).status == .noContent)
            #expect(try await client.call(.get, "/v1/me", token: third).status == .unauthorized)
            #expect(try await client.call(.get, "/v1/me", token: token).status == .ok)
        }
    }

    @Test func registrationValidation() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let cases: [([String: Any], String)] = [
                (["username": "ab", "email": "a@b.co", "password": "12345678"], "invalid_username"),
                (["username": "has space", "email": "a@b.co", "password": "12345678"], "invalid_username"),
                (["username": String(repeating: "x", count: 33), "email": "a@b.co", "password": "12345678"], "invalid_username"),
                (["username": "valid", "email": "not-an-email", "password": "12345678"], "invalid_email"),
                (["username": "valid", "email": "a@b", "password": "12345678"], "invalid_email"),
                (["username": "valid", "email": "a@b.co", "password": "1234567"], "invalid_password"),
                (["username": "valid", "email": "a@b.co", "password": String(repeating: "p", count: 129)], "invalid_password"),
                (["username": "valid", "email": "a@b.co", "password": "12345678", "display_name": "   "], "invalid_display_name"),
            ]
            for (body, code) in cases {
                let reply = try await client.call(.post, "/v1/accounts", json: body)
                #expect(reply.status == .unprocessableContent, "\(body)")
                #expect(reply.errorCode == code)
            }
            #expect(try await client.call(.post, "/v1/accounts", raw: "{not json").status == .badRequest)
            #expect(try await client.call(.post, "/v1/accounts", json: ["username": 5]).status == .badRequest)
            #expect(try await client.call(.post, "/v1/accounts", raw: String(repeating: "x", count: 70_000)).status == .contentTooLarge)
            let unknown = try await client.call(.get, "/v1/nowhere")
            #expect(unknown.status == .notFound)
            #expect(unknown.errorCode == "not_found")
        }
    }

    @Test func usernamesAreUniqueAndTakenEmailsAreNotRevealed() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            _ = try await client.register("bob")
            let sameName = try await client.call(.post, "/v1/accounts", json: ["username": "BOB", "email": "other@example.com", "password": "12345678"])
            #expect(sameName.status == .conflict)
            #expect(sameName.errorCode == "username_taken")
            // A taken address registers like a free one (see AbuseLimitTests for the whole rule).
            let sameEmail = try await client.call(.post, "/v1/accounts", json: ["username": "robert", "email": "Bob@example.com", "password": "12345678"])
            #expect(sameEmail.status == .created)
        }
    }

    @Test func concurrentRegistrationsOfOneNameGiveOneWinner() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        try await client.call(.post, "/v1/accounts", json: ["username": "racer", "email": "racer\(index)@example.com", "password": "12345678"]).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 7)
        }
    }

    @Test func emailsAreSealedAtRestAndNeverShownToOthers() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let alice = try await client.register("alice")
            let bob = try await client.register("bob")
            let profile = try await client.call(.get, "/v1/players/\(alice.id)", token: bob.token)
            #expect(profile.status == .ok)
            #expect(profile["email"] == nil)
            #expect(profile.string("username") == "alice")
            #expect((profile["statistics"] as? [String: Any])?["games_played"] as? Int == 0)
            #expect(try await client.call(.get, "/v1/players/999", token: bob.token).status == .notFound)
            #expect(try await client.call(.get, "/v1/players/abc", token: bob.token).status == .notFound)
        }
        let stored = try await plane.database.writer.read { db in try Data.fetchAll(db, sql: "SELECT email FROM players") }
        for blob in stored {
            #expect(!String(decoding: blob, as: UTF8.self).contains("example.com"))
        }
    }

    @Test func failedLoginsAreRateLimited() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            _ = try await client.register("carol")
            for _ in 0..<5 {
                let reply = try await client.call(.post, "/v1/sessions", json: ["username": "carol", "password": "wrong password"])
                #expect(reply.status == .unauthorized)
                #expect(reply.errorCode == "invalid_credentials")
            }
            let limited = try await client.call(.post, "/v1/sessions", json: ["username": "carol", "password": "correct horse battery"])
            #expect(limited.status == .tooManyRequests)
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)
            // Unknown accounts answer like wrong passwords, until the address limit trips.
            let unknown = try await client.call(.post, "/v1/sessions", json: ["username": "nobody", "password": "whatever1"])
            #expect(unknown.status == .unauthorized)
        }
    }
}
