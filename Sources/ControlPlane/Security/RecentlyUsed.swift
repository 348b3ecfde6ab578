/// A map of at most `capacity` entries that drops the least recently used first, approximately
/// and in O(1): entries live in two generations; a read of an older one moves it to the recent
/// one, and when the recent generation is full the older one is dropped whole and the recent one
/// becomes older. An entry used at least once per `capacity / 2` insertions is never dropped.
struct RecentlyUsed<Key: Hashable, Value> {
    private var recent: [Key: Value] = [:]
    private var older: [Key: Value] = [:]
    private let generationSize: Int

    init(capacity: Int) {
        generationSize = max(1, capacity / 2)
    }

    var count: Int { recent.count + older.count }

    /// The value, counted as a use, and what making room for it in the recent generation dropped.
    mutating func value(for key: Key) -> (value: Value, dropped: [Key: Value])? {
        if let value = recent[key] { return (value, [:]) }
        guard let value = older.removeValue(forKey: key) else { return nil }
        return (value, insert(value, for: key))
    }

    /// Stores `value`; returns what making room for it dropped.
    @discardableResult
    mutating func insert(_ value: Value, for key: Key) -> [Key: Value] {
        older.removeValue(forKey: key)
        recent[key] = value
        guard recent.count >= generationSize else { return [:] }
        let dropped = older
        older = recent
        recent = [:]
        return dropped
    }

    @discardableResult
    mutating func remove(_ key: Key) -> Value? {
        recent.removeValue(forKey: key) ?? older.removeValue(forKey: key)
    }

    mutating func removeAll() {
        recent = [:]
        older = [:]
    }
}
