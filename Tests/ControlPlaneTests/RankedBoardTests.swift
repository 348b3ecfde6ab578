@testable import ControlPlane
import NetProtocol
import Testing

@Suite struct RankedBoardTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func agreesWithASortedArrayThroughRandomUpdates(seed: UInt64) {
        var random = SeededRandomSource(seed: seed)
        var board = RankedBoard()
        var truth: [Int64: Int64] = [:]
        for step in 0..<20_000 {
            let player = Int64(random.next() % 3000) + 1
            if random.next() % 10 == 0 {
                board.remove(player)
                truth.removeValue(forKey: player)
            } else {
                let score = Int64(random.next() % 500)
                board.set(player, score: score)
                truth[player] = score
            }
            if step % 997 == 0 {
                let sorted = truth.map { RankedBoard.Entry(playerID: $0.key, score: $0.value) }
                    .sorted { $0.score != $1.score ? $0.score > $1.score : $0.playerID < $1.playerID }
                #expect(board.count == sorted.count)
                #expect(board.entries(from: 0, limit: sorted.count) == sorted)
                for (rank, entry) in sorted.enumerated() where rank % 37 == 0 {
                    #expect(board.rank(of: entry.playerID) == rank)
                }
                #expect(board.entries(from: sorted.count / 2, limit: 5) == Array(sorted.dropFirst(sorted.count / 2).prefix(5)))
            }
        }
    }

    @Test func buildsFromSortedEntriesAndHandlesTheEdges() {
        let entries = (0..<5000).map { RankedBoard.Entry(playerID: Int64($0 + 1), score: Int64(10_000 - $0)) }
        var board = RankedBoard(sorted: entries)
        #expect(board.rank(of: 1) == 0)
        #expect(board.rank(of: 5000) == 4999)
        #expect(board.rank(of: 9999) == nil)
        #expect(board.entries(from: 4998, limit: 10).count == 2)
        #expect(board.entries(from: 6000, limit: 10).isEmpty)
        board.set(5000, score: 20_000)
        #expect(board.rank(of: 5000) == 0)
        #expect(board.rank(of: 1) == 1)
    }
}
