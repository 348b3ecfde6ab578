import ControlPlane
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct ListAndCapTests {
    /// Follows `next_cursor` from `path` (which already has `?limit=`), returning each page's items.
    func pages(_ client: some TestClientProtocol, _ path: String, key: String, token: String) async throws -> [[[String: Any]]] {
        var result: [[[String: Any]]] = []
        var cursor: String?
        repeat {
            let reply = try await client.call(.get, path + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
            #expect(reply.status == .ok, "\(reply.json)")
            result.append(try #require(reply[key] as? [[String: Any]]))
            cursor = reply.string("next_cursor")
        } while cursor != nil && result.count < 20
        return result
    }

    @Test func privateGamesBoardsAre404ToThoseWhoCannotSeeTheGame() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let owner = try await client.register("owner")
            let guest = try await client.register("guest")
            let stranger = try await client.register("stranger")
            let secret = try #require(try await client.call(.post, "/v1/games", token: owner.token, json: ["name": "Secret", "settings": ["visibility": "private"]]).int("id"))
            let open = try #require(try await client.call(.post, "/v1/games", token: owner.token, json: ["name": "Open"]).int("id"))
            _ = try await client.call(.post, "/v1/games/\(secret)/invites", token: owner.token, json: ["username": "guest"])

            let hidden = try await client.call(.get, "/v1/leaderboards/game-\(secret)", token: stranger.token)
            let missing = try await client.call(.get, "/v1/leaderboards/game-999999", token: stranger.token)
            #expect(hidden.status == .notFound)
            // Byte for byte what a board that does not exist answers: nothing tells them apart.
            #expect(hidden.body == missing.body)
            #expect(try await client.call(.get, "/v1/leaderboards/game:\(secret)", token: stranger.token).body == missing.body)
            #expect(try await client.call(.get, "/v1/games/\(secret)", token: stranger.token).status == .notFound)
            // Its chat channel too: 404 like a game that does not exist, not 403.
            let hiddenChat = try await client.call(.get, "/v1/chat/game:\(secret)/messages", token: stranger.token)
            #expect(hiddenChat.status == .notFound)
            #expect(hiddenChat.body == (try await client.call(.get, "/v1/chat/game:999999/messages", token: stranger.token)).body)
            #expect(try await client.call(.get, "/v1/chat/game:\(open)/messages", token: stranger.token).status == .forbidden)

            #expect(try await client.call(.get, "/v1/leaderboards/game-\(secret)", token: owner.token).status == .ok)
            #expect(try await client.call(.get, "/v1/leaderboards/game-\(secret)", token: guest.token).status == .ok)
            #expect(try await client.call(.get, "/v1/leaderboards/game-\(open)", token: stranger.token).status == .ok)
            #expect(try await client.call(.get, "/v1/leaderboards/global", token: stranger.token).status == .ok)
        }
    }

    @Test func invitesArePaged() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let host = try await client.register("host")
            let invitee = try await client.register("invitee")
            var games: [Int] = []
            for index in 0..<5 {
                let game = try #require(try await client.call(.post, "/v1/games", token: host.token, json: ["name": "g\(index)"]).int("id"))
                games.append(game)
                #expect(try await client.call(.post, "/v1/games/\(game)/invites", token: host.token, json: ["username": "invitee"]).status == .created)
            }
            let seen = try await pages(client, "/v1/invites?limit=2", key: "invites", token: invitee.token)
            #expect(seen.map(\.count) == [2, 2, 1])
            #expect(seen.flatMap { $0 }.compactMap { $0["game_id"] as? Int } == games)
            let all = try await client.call(.get, "/v1/invites", token: invitee.token)
            #expect((all["invites"] as? [Any])?.count == 5)
            #expect(all["next_cursor"] == nil)
            for bad in ["limit=0", "limit=101", "limit=x", "cursor=abc", "cursor=-1"] {
                let reply = try await client.call(.get, "/v1/invites?\(bad)", token: invitee.token)
                #expect(reply.status == .badRequest, "\(bad)")
                #expect(reply.errorCode == "invalid_query")
            }
        }
    }

    @Test func friendsArePaged() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let popular = try await client.register("popular")
            var names: [String] = []
            for index in 0..<5 {
                let name = "Fan\(index)"
                names.append(name)
                let fan = try await client.register(name)
                #expect(try await client.call(.post, "/v1/friends", token: fan.token, json: ["username": "popular"]).status == .created)
            }
            let seen = try await pages(client, "/v1/friends?limit=2", key: "friends", token: popular.token)
            #expect(seen.map(\.count) == [2, 2, 1])
            #expect(seen.flatMap { $0 }.compactMap { $0["username"] as? String } == names)
            #expect(seen.flatMap { $0 }.allSatisfy { $0["status"] as? String == "incoming" })
            #expect(try await client.call(.get, "/v1/friends?limit=0", token: popular.token).status == .badRequest)
            #expect(try await client.call(.get, "/v1/friends?limit=101", token: popular.token).status == .badRequest)
        }
    }

    @Test func openGamesPendingInvitesAndFriendRequestsAreCappedPerAccount() async throws {
        var limits = TestControlPlane.testLimits
        limits.openGamesPerAccount = 2
        limits.pendingInvitesPerAccount = 2
        limits.pendingFriendRequestsPerAccount = 2
        let plane = try await TestControlPlane(limits: limits)
        try await plane.application.test(.router) { client in
            let busy = try await client.register("busy")
            var others: [(token: String, id: Int64)] = []
            for index in 0..<3 { others.append(try await client.register("other\(index)")) }

            // Games: two open at once; closing one makes room.
            let first = try #require(try await client.call(.post, "/v1/games", token: busy.token, json: ["name": "one"]).int("id"))
            #expect(try await client.call(.post, "/v1/games", token: busy.token, json: ["name": "two"]).status == .created)
            let third = try await client.call(.post, "/v1/games", token: busy.token, json: ["name": "three"])
            #expect(third.status == .conflict)
            #expect(third.errorCode == "too_many_games")
            #expect(try await client.call(.post, "/v1/games/\(first)/close", token: busy.token).status == .ok)
            let game = try #require(try await client.call(.post, "/v1/games", token: busy.token, json: ["name": "three"]).int("id"))

            // Invites: two pending at once; an answered one makes room.
            #expect(try await client.call(.post, "/v1/games/\(game)/invites", token: busy.token, json: ["username": "other0"]).status == .created)
            let second = try await client.call(.post, "/v1/games/\(game)/invites", token: busy.token, json: ["username": "other1"])
            #expect(second.status == .created)
            let over = try await client.call(.post, "/v1/games/\(game)/invites", token: busy.token, json: ["username": "other2"])
            #expect(over.status == .conflict)
            #expect(over.errorCode == "too_many_invites")
            let secondID = try #require(second.int("id"))
            #expect(try await client.call(.post, "/v1/invites/\(secondID)/decline", token: others[1].token).status == .ok)
            #expect(try await client.call(.post, "/v1/games/\(game)/invites", token: busy.token, json: ["username": "other2"]).status == .created)

            // Friend requests: two pending at once; an accepted one makes room.
            #expect(try await client.call(.post, "/v1/friends", token: busy.token, json: ["username": "other0"]).status == .created)
            #expect(try await client.call(.post, "/v1/friends", token: busy.token, json: ["username": "other1"]).status == .created)
            let tooMany = try await client.call(.post, "/v1/friends", token: busy.token, json: ["username": "other2"])
            #expect(tooMany.status == .conflict)
            #expect(tooMany.errorCode == "too_many_friend_requests")
            #expect(try await client.call(.post, "/v1/friends/\(busy.id)/accept", token: others[0].token).status == .ok)
            #expect(try await client.call(.post, "/v1/friends", token: busy.token, json: ["username": "other2"]).status == .created)
        }
    }
}

@Suite struct TextLimitTests {
    @Test func namesAndDescriptionsAreLimitedInUTF8Bytes() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let player = try await client.register("namer")
            let zalgo = "e" + String(repeating: "\u{301}", count: 300)  // one character, 601 bytes
            #expect(zalgo.count == 1)
            func create(_ name: String, description: String? = nil) async throws -> Reply {
                var body: [String: Any] = ["name": name]
                if let description { body["description"] = description }
                return try await client.call(.post, "/v1/games", token: player.token, json: body)
            }
            #expect(try await create(String(repeating: "a", count: 128)).status == .created)
            #expect(try await create(String(repeating: "a", count: 129)).errorCode == "invalid_name")
            #expect(try await create(String(repeating: "😀", count: 33)).errorCode == "invalid_name")  // 33 characters, 132 bytes
            #expect(try await create(zalgo).errorCode == "invalid_name")
            #expect(try await create("ok", description: String(repeating: "é", count: 2000)).status == .created)  // 4000 bytes
            #expect(try await create("ok", description: String(repeating: "é", count: 2001)).errorCode == "invalid_description")

            #expect(try await client.call(.patch, "/v1/me", token: player.token, json: ["display_name": zalgo]).errorCode == "invalid_display_name")
            let emoji = String(repeating: "😀", count: 16)  // 64 bytes
            #expect(try await client.call(.patch, "/v1/me", token: player.token, json: ["display_name": emoji]).string("display_name") == emoji)
            #expect(try await client.call(.patch, "/v1/me", token: player.token, json: ["display_name": emoji + "a"]).status == .unprocessableContent)
        }
    }
}
