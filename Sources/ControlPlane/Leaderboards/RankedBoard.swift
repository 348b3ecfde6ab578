/// An order-statistic list of (player, score), highest score first, ties by player id: rank,
/// position and neighbourhood queries in O(√n)-ish time without touching the database.
///
/// Stored as sorted chunks of at most 1024 entries; a rank is the sizes of the chunks before
/// plus a binary search inside one. At a million entries that is about 1,000 additions and two
/// binary searches per query, and an update moves at most one chunk's worth of memory.
struct RankedBoard: Sendable {
    struct Entry: Sendable, Equatable {
        var playerID: Int64
        var score: Int64
    }

    private static let maxChunk = 1024
    private var chunks: [[Entry]] = []
    private var scores: [Int64: Int64] = [:]

    init() {}

    /// Builds from entries already in rank order.
    init(sorted entries: [Entry]) {
        var index = 0
        while index < entries.count {
            let end = min(entries.count, index + Self.maxChunk / 2)
            chunks.append(Array(entries[index..<end]))
            index = end
        }
        scores.reserveCapacity(entries.count)
        for entry in entries { scores[entry.playerID] = entry.score }
    }

    var count: Int { scores.count }

    func score(of playerID: Int64) -> Int64? { scores[playerID] }

    /// `a` ranks above `b`.
    private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.score != b.score ? a.score > b.score : a.playerID < b.playerID
    }

    /// The chunk that holds (or would hold) `entry`.
    private func chunkIndex(for entry: Entry) -> Int {
        var low = 0
        var high = chunks.count - 1
        while low < high {
            let middle = (low + high) / 2
            if let last = chunks[middle].last, Self.precedes(last, entry) { low = middle + 1 } else { high = middle }
        }
        return max(0, low)
    }

    private static func position(of entry: Entry, in chunk: [Entry]) -> Int {
        var low = 0
        var high = chunk.count
        while low < high {
            let middle = (low + high) / 2
            if precedes(chunk[middle], entry) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Sets a player's score (inserting or moving them).
    mutating func set(_ playerID: Int64, score: Int64) {
        remove(playerID)
        let entry = Entry(playerID: playerID, score: score)
        scores[playerID] = score
        guard !chunks.isEmpty else {
            chunks = [[entry]]
            return
        }
        let chunk = chunkIndex(for: entry)
        chunks[chunk].insert(entry, at: Self.position(of: entry, in: chunks[chunk]))
        if chunks[chunk].count > Self.maxChunk {
            let upper = Array(chunks[chunk][(Self.maxChunk / 2)...])
            chunks[chunk].removeLast(upper.count)
            chunks.insert(upper, at: chunk + 1)
        }
    }

    mutating func remove(_ playerID: Int64) {
        guard let score = scores.removeValue(forKey: playerID) else { return }
        let entry = Entry(playerID: playerID, score: score)
        let chunk = chunkIndex(for: entry)
        let position = Self.position(of: entry, in: chunks[chunk])
        guard position < chunks[chunk].count, chunks[chunk][position] == entry else { return }
        chunks[chunk].remove(at: position)
        if chunks[chunk].isEmpty { chunks.remove(at: chunk) }
    }

    /// 0-based rank of a player.
    func rank(of playerID: Int64) -> Int? {
        guard let score = scores[playerID] else { return nil }
        let entry = Entry(playerID: playerID, score: score)
        let chunk = chunkIndex(for: entry)
        var before = 0
        for index in 0..<chunk { before += chunks[index].count }
        return before + Self.position(of: entry, in: chunks[chunk])
    }

    /// Up to `limit` entries starting at 0-based `rank`.
    func entries(from rank: Int, limit: Int) -> [Entry] {
        guard rank >= 0, limit > 0 else { return [] }
        var skipped = 0
        var chunk = 0
        while chunk < chunks.count && skipped + chunks[chunk].count <= rank {
            skipped += chunks[chunk].count
            chunk += 1
        }
        var result: [Entry] = []
        result.reserveCapacity(limit)
        var offset = rank - skipped
        while chunk < chunks.count && result.count < limit {
            let take = min(limit - result.count, chunks[chunk].count - offset)
            result.append(contentsOf: chunks[chunk][offset..<(offset + take)])
            chunk += 1
            offset = 0
        }
        return result
    }
}
