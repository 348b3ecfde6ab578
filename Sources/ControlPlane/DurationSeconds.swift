extension Duration {
    /// The duration as a number of seconds (attosecond resolution folded into a `Double`).
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
