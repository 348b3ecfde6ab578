@testable import ControlPlane
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// What the control port says back, in the API's own terms: field names as the JSON spells them,
/// answers that are the thing acted on, numbers without floating-point noise.
@Suite struct ErrorWordingTests {
    @Test func aBodyErrorNamesTheFieldInSnakeCase() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let alice = try await client.register("alice")
            // Given a nested field of the wrong type,
            let wrongType = try await client.call(
                .post, "/v1/games", token: alice.token, json: ["name": "Friday", "settings": ["max_players": "many"]])
            // then the answer names it as sent, and says what it must be.
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.errorCode == "invalid_body")
            let message = try #require((wrongType["error"] as? [String: Any])?["message"] as? String)
            #expect(message == "invalid JSON body: 'settings.max_players' must be an integer", "\(message)")
            #expect(!message.contains("maxPlayers"))

            let missing = try await client.call(.post, "/v1/games", token: alice.token, json: ["settings": ["time_limit_seconds": 60]])
            #expect((missing["error"] as? [String: Any])?["message"] as? String == "invalid JSON body: missing field 'name'")

            let wrongObject = try await client.call(.post, "/v1/games", token: alice.token, json: ["name": "Friday", "settings": [1, 2]])
            #expect((wrongObject["error"] as? [String: Any])?["message"] as? String == "invalid JSON body: 'settings' must be an object")
        }
    }

    @Test(arguments: [
        ("maxPlayers", "max_players"), ("timeLimitSeconds", "time_limit_seconds"), ("playerID", "player_id"), ("URLPath", "url_path"),
        ("max_players", "max_players"), ("name", "name"), ("score2Limit", "score2_limit"),
    ])
    func swiftNamesBecomeWireNames(_ name: String, _ wire: String) {
        #expect(Request.snakeCase(name) == wire)
    }

    @Test func acceptingOrDecliningAnInviteAnswersWithTheInvite() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let owner = try await client.register("owner")
            let friend = try await client.register("friend")
            let other = try await client.register("other")
            let game = try await client.call(.post, "/v1/games", token: owner.token, json: ["name": "Friday", "settings": ["visibility": "private"]])
            let gameID = try #require(game.int("id"))
            let first = try await client.call(.post, "/v1/games/\(gameID)/invites", token: owner.token, json: ["username": "friend"])
            let second = try await client.call(.post, "/v1/games/\(gameID)/invites", token: owner.token, json: ["username": "other"])

            // When the invitee accepts, the answer is that invite, now accepted (the shape of one
            // element of GET /v1/invites).
            let accepted = try await client.call(.post, "/v1/invites/\(try #require(first.int("id")))/accept", token: friend.token)
            #expect(accepted.status == .ok)
            #expect(accepted.int("id") == first.int("id"))
            #expect(accepted.string("status") == "accepted")
            #expect(accepted.int("game_id") == gameID)
            #expect(accepted.string("game_name") == "Friday")
            #expect(accepted.string("inviter_name") == "owner")
            #expect(accepted.int("invitee_id") == Int(friend.id))
            #expect(Set(accepted.json.keys) == Set(first.json.keys))

            let declined = try await client.call(.post, "/v1/invites/\(try #require(second.int("id")))/decline", token: other.token)
            #expect(declined.status == .ok)
            #expect(declined.string("status") == "declined")
            #expect(declined.int("invitee_id") == Int(other.id))
        }
    }

    @Test func timePlayedIsReportedToTheMillisecond() throws {
        let statistics = PlayerStatistics(gamesPlayed: 1, timePlayedSeconds: 60.00054438899997)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = try #require(String(data: try encoder.encode(statistics), encoding: .utf8))
        #expect(json.contains("\"time_played_seconds\":60.001"), "\(json)")
        let decoded = try JSONDecoder().decode(PlayerStatistics.self, from: Data(#"{"gamesPlayed":1,"wins":0,"kills":0,"deaths":0,"totalScore":0,"bestScore":0,"timePlayedSeconds":2.5}"#.utf8))
        #expect(decoded.timePlayedSeconds == 2.5)
    }
}
