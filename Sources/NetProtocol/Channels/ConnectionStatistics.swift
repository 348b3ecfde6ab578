/// What a ``ChannelConnection`` measures, updated as packets are sent, received and acked.
/// Times in seconds, rates in bytes per second, loss as a fraction.
public struct ConnectionStatistics: Sendable, Equatable {
    /// Smoothed round-trip time (RFC 6298 style: 1/8 gain).
    public var rtt: Double = 0
    /// Smallest and largest of the last 128 RTT samples.
    public var rttMin: Double = 0
    public var rttMax: Double = 0
    /// Mean deviation of the RTT (1/4 gain): the jitter.
    public var jitter: Double = 0
    /// Fraction of sent packets never acknowledged (smoothed over roughly the last 100).
    public var packetLoss: Double = 0
    /// Smoothed send, receive and acknowledged rates, including an assumed 28 bytes of IP and
    /// UDP overhead per packet.
    public var sentBandwidth: Double = 0
    public var receivedBandwidth: Double = 0
    public var ackedBandwidth: Double = 0

    public var packetsSent: UInt64 = 0
    public var packetsReceived: UInt64 = 0
    public var packetsAcked: UInt64 = 0
    public var rttSamples: UInt64 = 0
    public var messagesSent: UInt64 = 0
    public var messagesReceived: UInt64 = 0
    /// Reliable messages and fragments sent again after their resend delay.
    public var resends: UInt64 = 0
    /// Packets dropped: older than the received-packet window, or already received.
    public var stalePackets: UInt64 = 0
    public var duplicatePackets: UInt64 = 0
    /// Packets refused (not acked) because a receive queue or the reassembly memory was full.
    public var backPressuredPackets: UInt64 = 0
    /// Of those, packets refused because storing them would have passed the memory budget.
    public var overBudgetPackets: UInt64 = 0
    /// Unreliable messages that found no room in this tick's packets, or overflowed the
    /// receiver's queue, or arrived older than one already delivered (sequenced).
    public var unreliableDropped: UInt64 = 0
    public var unreliableStale: UInt64 = 0
    /// Ticks where the bandwidth limit held data back.
    public var bandwidthLimitedTicks: UInt64 = 0
    /// Ticks where the per-tick byte budget ran out with data still waiting.
    public var budgetLimitedTicks: UInt64 = 0

    public init() {}
}

/// The running estimators behind ``ConnectionStatistics``.
struct StatisticsEstimator {
    /// Everything but `rttMin` and `rttMax`, which ``current`` works out when asked (a scan of
    /// the sample window, too slow for every acknowledged packet).
    var statistics = ConnectionStatistics()
    /// The last 128 RTT samples, allocated with the first (single precision: they only feed
    /// the displayed range).
    private var samples: [Float] = []
    static let sampleWindow = 128
    private var sampleCount = 0
    private var sentBytes = 0
    private var receivedBytes = 0
    private var ackedBytes = 0
    private var windowStart: Double?
    static let ipUDPOverhead = 28

    mutating func recordRTT(_ sample: Double) {
        let sample = max(0, sample)
        if statistics.rttSamples == 0 {
            statistics.rtt = sample
            statistics.jitter = sample / 2
        } else {
            statistics.jitter += (abs(sample - statistics.rtt) - statistics.jitter) * 0.25
            statistics.rtt += (sample - statistics.rtt) * 0.125
        }
        statistics.rttSamples &+= 1
        if samples.isEmpty { samples = [Float](repeating: 0, count: Self.sampleWindow) }
        samples[sampleCount % Self.sampleWindow] = Float(sample)
        sampleCount += 1
    }

    /// The statistics with the RTT range of the sample window.
    var current: ConnectionStatistics {
        var result = statistics
        let window = samples.prefix(min(sampleCount, samples.count))
        result.rttMin = Double(window.min() ?? 0)
        result.rttMax = Double(window.max() ?? 0)
        return result
    }

    mutating func recordLossSample(lost: Bool) {
        statistics.packetLoss += ((lost ? 1 : 0) - statistics.packetLoss) * 0.02
    }

    mutating func recordSent(bytes: Int) { sentBytes += bytes + Self.ipUDPOverhead }
    mutating func recordReceived(bytes: Int) { receivedBytes += bytes + Self.ipUDPOverhead }
    mutating func recordAcked(bytes: Int) { ackedBytes += bytes + Self.ipUDPOverhead }

    /// Folds the bytes counted since the last call into the bandwidth estimates, every 100 ms.
    mutating func refreshBandwidth(now: Double) {
        guard let start = windowStart else {
            windowStart = now
            return
        }
        let elapsed = now - start
        guard elapsed >= 0.1 else { return }
        let gain = 0.25
        statistics.sentBandwidth += (Double(sentBytes) / elapsed - statistics.sentBandwidth) * gain
        statistics.receivedBandwidth += (Double(receivedBytes) / elapsed - statistics.receivedBandwidth) * gain
        statistics.ackedBandwidth += (Double(ackedBytes) / elapsed - statistics.ackedBandwidth) * gain
        sentBytes = 0
        receivedBytes = 0
        ackedBytes = 0
        windowStart = now
    }
}
