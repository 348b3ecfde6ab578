import NetProtocol

/// What Arbiter puts in a connect token's 256 bytes of user data: which match the player is
/// joining, who the player is, and the name to show. Sealed inside the token, so the game
/// server can trust it without asking the control port.
///
/// Layout (little-endian): `"ARB1"` | match id u64 | player id u64 | name length u8 | name UTF-8
/// (at most 64 bytes) | role u8 (0 player, 1 spectator) | zeros. A match id of 0 means the
/// default open arena. Tickets written before the role byte have a zero there: players.
public struct MatchTicket: Sendable, Equatable {
    public static let magic: [UInt8] = Array("ARB1".utf8)
    public static let maxNameBytes = 64

    /// What the holder comes for: a seat in the match, or only to watch it (no player of its
    /// own, no seat taken, the whole world in its snapshots).
    public enum Role: UInt8, Sendable {
        case player = 0
        case spectator = 1
    }

    public var matchID: UInt64
    public var playerID: UInt64
    public var displayName: String
    public var role: Role

    public init(matchID: UInt64, playerID: UInt64, displayName: String, role: Role = .player) {
        self.matchID = matchID
        self.playerID = playerID
        self.displayName = displayName
        self.role = role
    }

    /// 256 bytes for ``ConnectToken/generate``. Longer names are cut at a character boundary.
    public func encoded() -> [UInt8] {
        var name = Array(displayName.utf8)
        if name.count > Self.maxNameBytes {
            var cut = String(decoding: name.prefix(Self.maxNameBytes), as: UTF8.self)
            while cut.utf8.count > Self.maxNameBytes || cut.hasSuffix("\u{FFFD}") { cut.removeLast() }
            name = Array(cut.utf8)
        }
        var out = [UInt8](repeating: 0, count: Netcode.userDataBytes)
        out.withUnsafeMutableBytes { raw in
            var writer = WireWriter(raw)
            writer.write(Self.magic)
            writer.write(matchID)
            writer.write(playerID)
            writer.write(UInt8(name.count))
            writer.write(name)
            writer.write(role.rawValue)
        }
        return out
    }

    /// Reads a ticket from token user data; nil if it is not one (e.g. a token minted by hand,
    /// which then joins the default arena).
    public init?(userData: [UInt8]) {
        let parsed: MatchTicket? = userData.withUnsafeBytes { raw in
            var reader = WireReader(raw)
            guard let magic = reader.readBytes(4), magic.elementsEqual(Self.magic),
                let matchID = reader.readUInt64(), let playerID = reader.readUInt64(),
                let length = reader.readUInt8(), Int(length) <= Self.maxNameBytes,
                let name = reader.readBytes(Int(length)),
                let role = reader.readUInt8().flatMap(Role.init(rawValue:))
            else { return nil }
            guard let text = String(validating: name, as: UTF8.self) else { return nil }
            return MatchTicket(matchID: matchID, playerID: playerID, displayName: text, role: role)
        }
        guard let parsed else { return nil }
        self = parsed
    }
}
