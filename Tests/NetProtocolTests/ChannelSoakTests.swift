import NetProtocol
import Testing

@Suite struct ChannelSoakTests {
    @Test(arguments: [UInt64(1), 2, 3])
    func soakHoldsUnderTheDoneWhenConditions(seed: UInt64) {
        let conditions = LinkConditions(latency: 0.15, jitter: 0.05, loss: 0.2, duplicate: 0.1, reorder: 0.1)
        let result = ChannelSoak(options: .init(seed: seed, messages: 3000, conditions: conditions, largeEvery: 100)).run()
        #expect(result.failure == nil)
        #expect(result.passed, "\(result.summaryLine)")
        #expect(result.sent == 3000 * 4 * 2)
        #expect(result.largeMessages == 2 * 2 * 30)
        #expect(result.delivered >= 3000 * 2 * 2)
    }

    @Test func soakReplaysFromItsSeed() {
        let options = ChannelSoak.Options(seed: 42, messages: 500, conditions: LinkConditions(latency: 0.05, jitter: 0.02, loss: 0.3, duplicate: 0.1, reorder: 0.2))
        #expect(ChannelSoak(options: options).run() == ChannelSoak(options: options).run())
    }

    @Test func soakSurvivesNinetyPercentLoss() {
        let conditions = LinkConditions(latency: 0.02, jitter: 0.005, loss: 0.9)
        let result = ChannelSoak(options: .init(seed: 5, messages: 100, conditions: conditions, largeEvery: 0, drainSeconds: 600)).run()
        #expect(result.passed, "\(result.summaryLine) \(result.failure ?? "")")
    }

    @Test func soakCatchesAViolation() {
        // A soak that cannot finish (the link dies for good) must report lost messages, not pass.
        let conditions = LinkConditions(latency: 0.05, loss: 0.2)
        var options = ChannelSoak.Options(seed: 9, messages: 200, conditions: conditions, largeEvery: 10, drainSeconds: 0.5)
        options.connection.maxReassemblyBytes = 64 * 1024
        options.connection.channels[0].maxMessageBytes = 64 * 1024
        options.connection.channels[1].maxMessageBytes = 64 * 1024
        let result = ChannelSoak(options: options).run()
        #expect(!result.passed)
        #expect(result.lost > 0)
    }
}
