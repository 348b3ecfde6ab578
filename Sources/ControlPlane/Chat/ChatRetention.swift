import Foundation

/// How long chat history is kept: the newest `perChannel` messages of each channel, none older
/// than `maxAge`. Enforced on every insert into a channel (the store deletes the rows past
/// either bound in the same transaction), on every read (older rows are never served), and by
/// ``ChatJanitor`` in channels nobody writes to any more.
struct ChatRetention: Sendable {
    let perChannel: Int
    let maxAge: TimeInterval

    init(limits: ControlPortLimits) {
        perChannel = limits.chatMessagesPerChannel
        maxAge = limits.chatRetentionSeconds
    }

    func cutoff(now: Date) -> Date { now.addingTimeInterval(-maxAge) }
}
