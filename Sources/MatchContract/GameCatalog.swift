/// The games a deployment hosts: each mode (a ``GameRules`` implementation, by name) with its
/// maps. The control port refuses settings outside it, so an unknown map is an error, never a
/// silent fallback to the default map.
public struct GameCatalog: Sendable, Equatable {
    public struct Mode: Sendable, Equatable {
        public var name: String
        /// The first is the default.
        public var maps: [String]

        public init(name: String, maps: [String]) {
            self.name = name
            self.maps = maps
        }
    }

    /// In the order the deployment lists them; the first is the default mode.
    public private(set) var entries: [Mode]

    public init(_ entries: [Mode]) {
        self.entries = entries
    }

    public var modes: [String] { entries.map(\.name) }

    /// The mode's maps, or nil if the mode is not hosted.
    public func maps(of mode: String) -> [String]? { entries.first { $0.name == mode }?.maps }

    /// Every map of every mode, once each, sorted (for documents that list them).
    public var allMaps: [String] { Array(Set(entries.flatMap(\.maps))).sorted() }
}
