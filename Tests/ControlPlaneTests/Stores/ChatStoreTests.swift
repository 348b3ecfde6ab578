@testable import ControlPlane
import Foundation
import Testing

/// ``ChatStore``, against every implementation in ``StoreFactory/all``.
@Suite struct ChatStoreTests {
    static let retention = ChatRetention(limits: ControlPortLimits(chatMessagesPerChannel: 3, chatRetentionSeconds: 24 * 3600))

    @Test(arguments: StoreFactory.all) func messagesAreKeptWithinTheirChannelsBounds(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let ann = try await stores.player("ann")
            let now = Date()
            // Two days old: beyond the age bound, so never served.
            let stale = try await stores.chat.append(channel: "lobby", sender: ann.id, body: "stale", at: now.addingTimeInterval(-2 * 24 * 3600), retention: Self.retention)
            #expect(try await stores.chat.history(of: "lobby", before: .max, notBefore: Self.retention.cutoff(now: now), limit: 10).isEmpty)
            var ids: [Int64] = []
            for body in ["m1", "m2", "m3", "m4"] {
                ids.append(try await stores.chat.append(channel: "lobby", sender: ann.id, body: body, at: now, retention: Self.retention))
            }
            #expect(ids.allSatisfy { $0 > stale } && ids == ids.sorted())
            _ = try await stores.chat.append(channel: "dm:1:2", sender: ann.id, body: "elsewhere", at: now, retention: Self.retention)
            // The newest three, newest first, with their sender's name; the stale one is gone.
            let history = try await stores.chat.history(of: "lobby", before: .max, notBefore: .distantPast, limit: 10)
            #expect(history.map(\.body) == ["m4", "m3", "m2"])
            #expect(history.allSatisfy { $0.senderID == ann.id && $0.senderName == "ann" && $0.channel == "lobby" })
            #expect(try await stores.chat.history(of: "lobby", before: ids[3], notBefore: .distantPast, limit: 1).map(\.body) == ["m3"])
            #expect(try await stores.chat.history(of: "dm:1:2", before: .max, notBefore: .distantPast, limit: 10).map(\.body) == ["elsewhere"])
        }
    }

    @Test(arguments: StoreFactory.all) func expiredMessagesAreDeletedInBatchesInEveryChannel(_ factory: StoreFactory) async throws {
        try await factory.with { stores in
            let ann = try await stores.player("ann")
            let now = Date()
            let generous = ChatRetention(limits: ControlPortLimits(chatRetentionSeconds: 365 * 24 * 3600))
            for index in 0..<5 {
                _ = try await stores.chat.append(channel: "dm:\(index):9", sender: ann.id, body: "old", at: now.addingTimeInterval(-3 * 24 * 3600), retention: generous)
            }
            _ = try await stores.chat.append(channel: "lobby", sender: ann.id, body: "fresh", at: now, retention: generous)
            let cutoff = Self.retention.cutoff(now: now)
            #expect(try await stores.chat.deleteMessages(sentBefore: cutoff, batch: 3) == 3)
            #expect(try await stores.chat.deleteMessages(sentBefore: cutoff, batch: 3) == 2)
            #expect(try await stores.chat.deleteMessages(sentBefore: cutoff, batch: 3) == 0)
            #expect(try await stores.chat.history(of: "lobby", before: .max, notBefore: .distantPast, limit: 10).map(\.body) == ["fresh"])
        }
    }
}
