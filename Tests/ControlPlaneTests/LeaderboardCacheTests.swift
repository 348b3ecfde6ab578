@testable import ControlPlane
import Synchronization
import Testing

/// ``LeaderboardCache`` on a store whose reads it holds up, to interleave writes with a load.
@Suite struct LeaderboardCacheTests {
    /// A board store that answers a read only once released, with what the board held when the
    /// read began (as a database snapshot would).
    final class HeldStore: LeaderboardStore, Sendable {
        private let state = Mutex<(entries: [RankedBoard.Entry], reading: CheckedContinuation<Void, Never>?, released: Bool)>(
            ([.init(playerID: 1, score: 10)], nil, false))

        func board(_ key: String) async throws -> StoredLeaderboard? {
            let snapshot = state.withLock { $0.entries }
            await withCheckedContinuation { continuation in
                let go = state.withLock { state -> Bool in
                    if state.released { return true }
                    state.reading = continuation
                    return false
                }
                if go { continuation.resume() }
            }
            return StoredLeaderboard(scoreOperator: .sum, entries: snapshot)
        }

        var isReading: Bool { state.withLock { $0.reading != nil } }

        func release() {
            let reading = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.released = true
                defer { state.reading = nil }
                return state.reading
            }
            reading?.resume()
        }
    }

    @Test func aWriteCommittedWhileABoardLoadsIsNotLost() async throws {
        let store = HeldStore()
        let cache = LeaderboardCache(store: store)
        let firstRead = Task { try await cache.page(BoardKey.global, from: 0, limit: 10, around: nil) }
        try await eventually("the load began") { store.isReading }
        // Committed after the load's snapshot: the board must still show it.
        await cache.apply([LeaderboardUpdate(boardKey: BoardKey.global, playerID: 2, score: 50)])
        store.release()
        let page = try #require(try await firstRead.value)
        #expect(page.entries.map(\.entry) == [.init(playerID: 2, score: 50), .init(playerID: 1, score: 10)])
        #expect(page.entries.map(\.rank) == [1, 2])
        // Later writes reach the loaded board directly.
        await cache.apply([LeaderboardUpdate(boardKey: BoardKey.global, playerID: 1, score: 70)])
        #expect(try await cache.page(BoardKey.global, from: 0, limit: 1, around: nil)?.entries.first?.entry == .init(playerID: 1, score: 70))
        await #expect(throws: StoreError.notFound(.rankedPlayer)) { try await cache.page(BoardKey.global, from: 0, limit: 1, around: 99) }
    }
}
