/// The boards ranked in memory. A board is loaded from its store on first read; every entry a
/// write sets reaches ``apply(_:)`` after its transaction commits, so a loaded board never serves
/// a stale score. Writes committed while a board loads are replayed onto what the load read
/// (setting an entry twice to the same score changes nothing), so a load that read before such a
/// write does not leave the board behind it.
public actor LeaderboardCache: LeaderboardRanking {
    struct Board {
        var scoreOperator: ScoreOperator
        var ranked: RankedBoard
    }

    private let store: any LeaderboardStore
    private var boards: [String: Board] = [:]
    private var loads: [String: Task<StoredLeaderboard?, any Error>] = [:]
    /// For each board being loaded, the updates applied since its load began.
    private var committedDuringLoad: [String: [LeaderboardUpdate]] = [:]
    /// Raised by ``forgetLoadedBoards()``: a load begun before it may have missed writes, so
    /// what it read serves its own readers but is not kept.
    private var generation = 0

    init(store: any LeaderboardStore) { self.store = store }

    private func board(_ key: String) async throws -> Board? {
        if let board = boards[key] { return board }
        let generationAtStart = generation
        let load: Task<StoredLeaderboard?, any Error>
        if let running = loads[key] {
            load = running
        } else {
            let store = store
            load = Task { try await store.board(key) }
            loads[key] = load
            committedDuringLoad[key] = []
        }
        let stored: StoredLeaderboard?
        do {
            stored = try await load.value
        } catch {
            if loads[key] == load {
                loads[key] = nil
                committedDuringLoad[key] = nil
            }
            throw error
        }
        guard generation == generationAtStart else {
            return stored.map { Board(scoreOperator: $0.scoreOperator, ranked: RankedBoard(sorted: $0.entries)) }
        }
        // Another reader of the same load may have installed it while this one waited.
        if let board = boards[key] { return board }
        if loads[key] == load { loads[key] = nil }
        let committed = committedDuringLoad.removeValue(forKey: key) ?? []
        guard let stored else { return nil }
        var board = Board(scoreOperator: stored.scoreOperator, ranked: RankedBoard(sorted: stored.entries))
        for update in committed { board.ranked.set(update.playerID, score: update.score) }
        boards[key] = board
        return board
    }

    /// Applies committed writes. Boards neither loaded nor loading are left to load fresh.
    func apply(_ updates: [LeaderboardUpdate]) {
        for update in updates {
            if boards[update.boardKey] != nil {
                boards[update.boardKey]?.ranked.set(update.playerID, score: update.score)
            } else {
                committedDuringLoad[update.boardKey]?.append(update)
            }
        }
    }

    /// Drops every board loaded or loading, so that each loads afresh on its next read: for when
    /// updates may have been missed (a shared ranking's feed reconnected).
    func forgetLoadedBoards() {
        boards = [:]
        loads = [:]
        committedDuringLoad = [:]
        generation += 1
    }

    func page(_ key: String, from rank: Int, limit: Int, around player: Int64?) async throws -> LeaderboardPage? {
        guard let board = try await board(key) else { return nil }
        var start = rank
        if let player {
            guard let position = board.ranked.rank(of: player) else { throw StoreError.notFound(.rankedPlayer) }
            start = max(0, position - limit / 2)
        }
        let entries = board.ranked.entries(from: start, limit: limit)
        let next = start + entries.count < board.ranked.count ? start + entries.count : nil
        return LeaderboardPage(
            entries: entries.enumerated().map { (start + $0.offset + 1, $0.element) }, total: board.ranked.count, nextRank: next,
            scoreOperator: board.scoreOperator)
    }
}
