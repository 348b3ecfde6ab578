@testable import ControlPlane
import Foundation
import Testing

/// ``GameStore``, against every implementation in ``StoreFactory/all``.
@Suite struct GameStoreTests {
    struct Refused: Error {}

    @Test(arguments: StoreFactory.all) func gamesAreCreatedCappedListedAndEdited(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let owner = try await stores.player("owner")
            let other = try await stores.player("other")
            let first = try await stores.games.createGame(ControlPlaneStores.draft(by: owner.id, name: "one"), maxOpenPerCreator: 2)
            #expect(first.game.id > 0 && first.game.name == "one" && first.memberCount == 1)
            let secret = try await stores.games.createGame(
                ControlPlaneStores.draft(by: owner.id, name: "two", visibility: "private"), maxOpenPerCreator: 2)
            await expectStoreError(.capReached(held: 2)) {
                try await stores.games.createGame(ControlPlaneStores.draft(by: owner.id), maxOpenPerCreator: 2)
            }
            // Its own board, empty, keeping the best.
            #expect(try await stores.leaderboards.board(BoardKey.game(first.game.id)) == StoredLeaderboard(scoreOperator: .best, entries: []))

            let found = try #require(try await stores.games.game(first.game.id, for: owner.id))
            #expect(found.listing == first)
            #expect(found.standing == GameStanding(isMember: true, hasInvite: false))
            #expect(try await stores.games.game(first.game.id, for: other.id)?.standing == GameStanding(isMember: false, hasInvite: false))
            #expect(try await stores.games.game(999_999, for: owner.id) == nil)
            #expect(try await stores.games.openPublicGames(after: 0, limit: 10).map(\.game.id) == [first.game.id])

            // A refusing check changes nothing; an edit keeps the id, the creator and the creation time.
            await #expect(throws: Refused.self) {
                try await stores.games.updateGame(first.game.id, by: other.id) { game, _ in
                    game.name = "stolen"
                    throw Refused()
                }
            }
            let edited = try await stores.games.updateGame(first.game.id, by: owner.id) { game, standing in
                #expect(standing.isMember)
                game.name = "renamed"
                game.maxPlayers = 8
                game.id = 42
                game.createdBy = other.id
                game.status = .closed
            }
            #expect(edited.game.id == first.game.id && edited.game.createdBy == owner.id && edited.game.createdAt == first.game.createdAt)
            #expect(try await stores.games.game(first.game.id, for: owner.id)?.listing == edited)
            #expect(edited.game.name == "renamed" && edited.game.maxPlayers == 8 && edited.game.status == .closed)
            #expect(try await stores.games.openPublicGames(after: 0, limit: 10).isEmpty)
            await expectStoreError(.notFound(.game)) { try await stores.games.updateGame(999_999, by: owner.id) { _, _ in } }
            // Closing made room for another open game.
            _ = try await stores.games.createGame(ControlPlaneStores.draft(by: owner.id), maxOpenPerCreator: 2)
            #expect(secret.game.visibility == "private")
        }
    }

    @Test(arguments: StoreFactory.all) func invitesAreRefusedInOrderAndRenewedOnceDeclined(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let host = try await stores.player("host")
            let guest = try await stores.player("guest")
            let third = try await stores.player("third")
            let fourth = try await stores.player("fourth")
            let game = try await stores.game(by: host.id, visibility: "private")
            let other = try await stores.game(by: host.id, name: "other")
            let pass: GameCheck = { _, _ in }

            await #expect(throws: Refused.self) {
                try await stores.games.invite(guest.id, to: game.id, from: host.id, maxPending: 2) { _, _ in throw Refused() }
            }
            #expect(try await stores.games.pendingInvites(for: guest.id, after: 0, limit: 10).isEmpty)
            let invite = try await stores.games.invite(guest.id, to: game.id, from: host.id, maxPending: 2, check: pass)
            #expect(invite.gameName == "Arena" && invite.inviterName == "host" && invite.inviteeID == guest.id && invite.status == .pending)
            #expect(try await stores.games.game(game.id, for: guest.id)?.standing == GameStanding(isMember: false, hasInvite: true))
            await expectStoreError(.alreadyExists) { try await stores.games.invite(guest.id, to: game.id, from: host.id, maxPending: 5, check: pass) }
            await expectStoreError(.alreadyMember) { try await stores.games.invite(host.id, to: game.id, from: host.id, maxPending: 5, check: pass) }
            _ = try await stores.games.invite(guest.id, to: other.id, from: host.id, maxPending: 2, check: pass)
            await expectStoreError(.capReached(held: 2)) { try await stores.games.invite(third.id, to: game.id, from: host.id, maxPending: 2, check: pass) }
            await expectStoreError(.notFound(.game)) { try await stores.games.invite(third.id, to: 999_999, from: host.id, maxPending: 9, check: pass) }

            #expect(try await stores.games.pendingInvites(for: guest.id, after: 0, limit: 10).map(\.gameID) == [game.id, other.id])
            #expect(try await stores.games.pendingInvites(for: guest.id, after: invite.id, limit: 10).map(\.gameID) == [other.id])
            // Only the invitee answers, once.
            await expectStoreError(.notFound(.invite)) { try await stores.games.answerInvite(invite.id, by: third.id, accept: true) }
            try await stores.games.answerInvite(invite.id, by: guest.id, accept: true)
            await expectStoreError(.notFound(.invite)) { try await stores.games.answerInvite(invite.id, by: guest.id, accept: false) }
            #expect(try await stores.games.game(game.id, for: guest.id)?.standing == GameStanding(isMember: true, hasInvite: true))
            #expect(try await stores.games.game(game.id, for: guest.id)?.listing.memberCount == 2)

            // A declined invite may be sent again.
            let declined = try await stores.games.invite(fourth.id, to: other.id, from: guest.id, maxPending: 2, check: pass)
            try await stores.games.answerInvite(declined.id, by: fourth.id, accept: false)
            #expect(try await stores.games.game(other.id, for: fourth.id)?.standing == GameStanding(isMember: false, hasInvite: false))
            let renewed = try await stores.games.invite(fourth.id, to: other.id, from: host.id, maxPending: 5, check: pass)
            #expect(renewed.id == declined.id && renewed.inviterID == host.id && renewed.status == .pending)
        }
    }

    @Test(arguments: StoreFactory.all) func leavingEndsTheMembershipAndThePlaceInTheRunningMatch(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let host = try await stores.player("host")
            let guest = try await stores.player("guest")
            let game = try await stores.game(by: host.id)
            let session = try await stores.runningSession(of: game.id, matchID: 7)
            try await stores.matches.takeSeat(player: guest.id, in: session, capacity: 2, maxConcurrentMatches: 1, at: Date())
            #expect(try await stores.games.game(game.id, for: guest.id)?.standing.isMember == true)
            let third = try await stores.player("third")
            await expectStoreError(.matchFull) {
                try await stores.matches.takeSeat(player: third.id, in: session, capacity: 1, maxConcurrentMatches: 1, at: Date())
            }

            await #expect(throws: Refused.self) { try await stores.games.leave(game.id, player: guest.id, at: Date()) { _, _ in throw Refused() } }
            try await stores.games.leave(game.id, player: guest.id, at: Date()) { _, _ in }
            #expect(try await stores.games.game(game.id, for: guest.id)?.standing.isMember == false)
            await expectStoreError(.notFound(.membership)) { try await stores.games.leave(game.id, player: guest.id, at: Date()) { _, _ in } }
            await expectStoreError(.notFound(.game)) { try await stores.games.leave(999_999, player: guest.id, at: Date()) { _, _ in } }
            // Their place is free again.
            try await stores.matches.takeSeat(player: third.id, in: session, capacity: 1, maxConcurrentMatches: 1, at: Date())
        }
    }
}
