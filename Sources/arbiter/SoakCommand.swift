import ArgumentParser
import GameRuntime
import NetProtocol

struct Soak: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Soak the channel layer in virtual time: a netcode client and server through a seeded lossy link.",
        discussion: """
            Sends --messages messages on every channel kind in both directions (a large message every \
            --large-every on the reliable ones) and checks each on arrival. Ends with \
            `soak: seed=S sent=N delivered=N lost=L duplicated=D out_of_order=O stale=T`; exit status 0 \
            only if all four counts are 0. Give the printed seed back with --seed to replay a run.
            """
    )

    @Option(help: "Seed for the link and the messages (default: a fresh one, printed).")
    var seed: UInt64?

    @Option(help: "Messages per channel kind, per direction.")
    var messages: Int = 10_000

    @Option(help: "Chance a datagram is lost, 0...1.")
    var loss: Double = 0.2

    @Option(help: "Chance a datagram is delivered twice, 0...1.")
    var duplicate: Double = 0.1

    @Option(help: "Chance a datagram is held back so later ones overtake it, 0...1.")
    var reorder: Double = 0.1

    @Option(name: .customLong("latency-ms"), help: "One-way latency in milliseconds.")
    var latencyMs: Int = 150

    @Option(name: .customLong("jitter-ms"), help: "Latency varies by up to this many milliseconds either way.")
    var jitterMs: Int = 50

    @Option(name: .customLong("large-every"), help: "Every Nth reliable message is large (1-64 KiB); 0 for none.")
    var largeEvery: Int = 100

    func validate() throws {
        guard (1...10_000_000).contains(messages) else { throw ValidationError("--messages must be 1...10000000") }
        for (name, value) in [("--loss", loss), ("--duplicate", duplicate), ("--reorder", reorder)] {
            guard (0...1).contains(value) else { throw ValidationError("\(name) must be between 0 and 1") }
        }
        guard loss < 1 else { throw ValidationError("--loss must be below 1, or nothing ever arrives") }
        guard (0...10_000).contains(latencyMs), (0...10_000).contains(jitterMs) else {
            throw ValidationError("--latency-ms and --jitter-ms must be 0...10000")
        }
        guard largeEvery >= 0 else { throw ValidationError("--large-every must be 0 or more") }
    }

    func run() throws {
        lineBufferedOutput()
        let seed = self.seed ?? SystemClock().freshSeed()
        print("soak: seed=\(seed) messages=\(messages) per channel kind and direction, loss=\(loss) duplicate=\(duplicate) reorder=\(reorder) latency_ms=\(latencyMs) jitter_ms=\(jitterMs) large_every=\(largeEvery)")
        let conditions = LinkConditions(
            latency: Double(latencyMs) / 1000, jitter: Double(jitterMs) / 1000, loss: loss, duplicate: duplicate, reorder: reorder)
        let result = ChannelSoak(options: ChannelSoak.Options(seed: seed, messages: messages, conditions: conditions, largeEvery: largeEvery)).run()
        let stats = result.clientStatistics
        print(String(format: "soak: virtual_seconds=%.1f large_messages=%d rtt_ms=%.1f jitter_ms=%.1f packet_loss=%.3f resends=%d corrupted=%d",
                     result.virtualSeconds, result.largeMessages, stats.rtt * 1000, stats.jitter * 1000, stats.packetLoss,
                     Int(stats.resends), result.corrupted))
        if let failure = result.failure { print("soak: failed: \(failure)") }
        print(result.summaryLine)
        if !result.passed { throw ExitCode(1) }
    }
}
