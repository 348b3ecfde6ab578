/// How a board folds a new result into a player's entry.
enum ScoreOperator: String, Sendable {
    /// Keep the highest.
    case best
    /// Add up.
    case sum
    /// Keep the newest.
    case latest

    func combine(old: Int64?, new: Int64) -> Int64 {
        guard let old else { return new }
        switch self {
        case .best: return max(old, new)
        case .sum: return old &+ new
        case .latest: return new
        }
    }
}
