extension SwarmReport {
    /// `none`, or `kicked=1 timed_out=3` (by reason, in name order), for the text table.
    var disconnectsText: String {
        disconnectsByReason.isEmpty ? "none" : disconnectsByReason.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
