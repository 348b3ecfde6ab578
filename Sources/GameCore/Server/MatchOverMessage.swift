import MatchContract

/// The last message of a match: the final standings, sent on the snapshot channels just before
/// the server disconnects the match's players, so that a client holding only a connect token can
/// tell a match that ended from a server that went away (docs/PROTOCOL.md). Best effort: it goes
/// out once, in the same tick as the disconnect, so a lost packet leaves the client with the
/// disconnect alone.
///
/// Layout (little-endian): kind 4 | line count u8 | per line: player id u64, score i32 (clamped),
/// kills u16, deaths u16 (clamped), name length u8, name (UTF-8, at most 32 bytes). In placing
/// order, best first.
public enum MatchOverMessage {
    public static let kind: UInt8 = 4
    static let maxNameBytes = 32
    static let maxLines = 255

    public static func encode(_ standings: [ScoreLine]) -> [UInt8] {
        let lines = standings.prefix(maxLines)
        var bytes: [UInt8] = [kind, UInt8(lines.count)]
        bytes.reserveCapacity(2 + lines.count * (19 + maxNameBytes))
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        for line in lines {
            append(line.playerID)
            append(Int32(clamping: line.score))
            append(UInt16(clamping: line.kills))
            append(UInt16(clamping: line.deaths))
            let name = Array(line.displayName.utf8.prefix(maxNameBytes))
            bytes.append(UInt8(name.count))
            bytes.append(contentsOf: name)
        }
        return bytes
    }

    /// The standings, or nil when `bytes` is not a well-formed match-over message.
    public static func decode(_ bytes: [UInt8]) -> [ScoreLine]? {
        guard bytes.count >= 2, bytes[0] == kind else { return nil }
        var offset = 2
        func read<T: FixedWidthInteger>(_: T.Type) -> T? {
            let size = MemoryLayout<T>.size
            guard offset + size <= bytes.count else { return nil }
            var value: T = 0
            for index in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + index]) << (8 * index) }
            offset += size
            return value
        }
        var lines: [ScoreLine] = []
        for _ in 0..<Int(bytes[1]) {
            guard let player = read(UInt64.self), let score = read(Int32.self), let kills = read(UInt16.self),
                let deaths = read(UInt16.self), let length = read(UInt8.self), Int(length) <= maxNameBytes,
                offset + Int(length) <= bytes.count
            else { return nil }
            let name = String(decoding: bytes[offset..<offset + Int(length)], as: UTF8.self)
            offset += Int(length)
            lines.append(ScoreLine(playerID: player, displayName: name, score: Int(score), kills: Int(kills), deaths: Int(deaths)))
        }
        return offset == bytes.count ? lines : nil
    }
}
