import MatchContract
import Foundation
import GameCore
import GameRuntime
import NetProtocol
import Testing

/// The directory and the outbox: what keeps the game server and the database in agreement.
@Suite struct MatchRecoveryTests {
    let settings = MatchSettings(maxPlayers: 4, tickRate: 60, scoreLimit: 10, timeLimitSeconds: 600)

    @Test func aReservedMatchWaitsForItsTokenHolder() {
        let directory = MatchDirectory(idleSeconds: 60)
        let id = directory.create(settings: settings, now: 0)
        #expect(directory.reserve(matchID: id, until: 100))
        #expect(directory.endDueMatches(now: 70, wallClock: Date()).isEmpty, "the token is valid until 100")
        #expect(directory.admit(MatchTicket(matchID: id, playerID: 1, displayName: "a"), now: 99) == .admitted(matchID: id))
        #expect(!directory.reserve(matchID: 12345, until: 100), "an unknown match is never reserved")
    }

    @Test func aMatchNoOneJoinedIsReportedAbandoned() async {
        let directory = MatchDirectory(idleSeconds: 60)
        let id = directory.create(settings: settings, now: 0)
        #expect(directory.endDueMatches(now: 61, wallClock: Date()) == [id])
        var iterator = directory.reports.makeAsyncIterator()
        let report = await iterator.next()
        #expect(report?.matchID == id)
        #expect(report?.abandoned == true)
        #expect(report?.lines.isEmpty == true)
    }

    @Test func endingOneMatchReturnsEveryMatchTheSweepEnded() {
        let directory = MatchDirectory(idleSeconds: 60)
        let idle = directory.create(settings: settings, now: 0)
        let over = directory.create(settings: settings, now: 50)
        _ = directory.admit(MatchTicket(matchID: over, playerID: 1, displayName: "a"), now: 50)
        #expect(Set(directory.end(matchID: over, now: 61, wallClock: Date())) == [idle, over])
    }

    @Test func shutdownReportsRunningMatchesAbandonedWithTimePlayed() async {
        let directory = MatchDirectory()
        let id = directory.create(settings: settings, now: 0)
        _ = directory.admit(MatchTicket(matchID: id, playerID: 9, displayName: "a"), now: 10)
        directory.abandonAll(now: 40, wallClock: Date())
        var reports: [MatchReport] = []
        for await report in directory.reports { reports.append(report) }
        #expect(reports.count == 1)
        #expect(reports.first?.abandoned == true)
        #expect(reports.first?.lines.first?.secondsPlayed == 30)
    }

    @Test func theOutboxKeepsReportsUntilRemovedAndSetsCorruptOnesAside() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outbox = try ResultsOutbox(directory: folder)
        let line = MatchReport.Line(playerID: 3, score: 5, kills: 5, deaths: 1, placement: 1, secondsPlayed: 12.5)
        let first = MatchReport(matchID: 77, endedAt: Date(timeIntervalSince1970: 1000), lines: [line], abandoned: false)
        let second = MatchReport(matchID: 78, endedAt: Date(timeIntervalSince1970: 2000), lines: [], abandoned: true)
        try outbox.store(second)
        try outbox.store(first)
        _ = FileManager.default.createFile(atPath: folder + "/79.json", contents: Data("{\"match".utf8))
        // A second outbox on the same folder (a restarted process) sees the same reports.
        let reopened = try ResultsOutbox(directory: folder)
        #expect(reopened.pending() == [first, second])
        #expect(FileManager.default.fileExists(atPath: folder + "/79.json.bad"))
        reopened.remove(matchID: 77)
        #expect(reopened.pending() == [second])
        let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/78.json")
        #expect((attributes[.posixPermissions] as? Int ?? 0o777) & 0o077 == 0)
    }
}
