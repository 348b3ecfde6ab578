import MatchContract

/// What one account may ask of the game servers.
public struct MatchLimits: Sendable, Equatable {
    /// Running matches one account may take part in at once (a join beyond it: 409
    /// `too_many_matches`).
    public var maxConcurrentMatchesPerAccount: Int
    /// Highest tick rate a game may choose. 128 Hz by default; a server may allow up to 240.
    public var maxTickRate: Int

    public static let highestTickRate = MatchSettings.tickRateRange.upperBound

    public init(maxConcurrentMatchesPerAccount: Int = 2, maxTickRate: Int = 128) {
        self.maxConcurrentMatchesPerAccount = maxConcurrentMatchesPerAccount
        self.maxTickRate = max(10, min(Self.highestTickRate, maxTickRate))
    }
}
