/// An axis-aligned box in world subunits.
public struct Box: Sendable, Equatable {
    public var minX: Int32
    public var minY: Int32
    public var maxX: Int32
    public var maxY: Int32

    public init(minX: Int32, minY: Int32, maxX: Int32, maxY: Int32) {
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
    }

    func overlaps(_ other: Box) -> Bool {
        minX < other.maxX && other.minX < maxX && minY < other.maxY && other.minY < maxY
    }

    func contains(x: Int32, y: Int32) -> Bool { x >= minX && x < maxX && y >= minY && y < maxY }
}

/// The arena's walls, obstacles and spawn points. Coordinates in subunits (4096 per unit).
public struct ArenaMap: Sendable, Equatable {
    public static let unit: Int32 = 4096
    public var name: String
    public var width: Int32
    public var height: Int32
    public var walls: [Box]
    public var spawns: [(x: Int32, y: Int32)] { spawnPoints.map { ($0.0, $0.1) } }
    var spawnPoints: [(Int32, Int32)]

    public static func == (lhs: ArenaMap, rhs: ArenaMap) -> Bool {
        lhs.name == rhs.name && lhs.walls == rhs.walls && lhs.width == rhs.width && lhs.height == rhs.height
    }

    /// Builds a map from unit coordinates.
    init(name: String, width: Int32, height: Int32, obstacles: [(Int32, Int32, Int32, Int32)], spawns: [(Int32, Int32)]) {
        let u = Self.unit
        self.name = name
        self.width = width * u
        self.height = height * u
        let thickness: Int32 = 1
        var boxes = [
            Box(minX: -thickness * u, minY: -thickness * u, maxX: (width + thickness) * u, maxY: 0),
            Box(minX: -thickness * u, minY: height * u, maxX: (width + thickness) * u, maxY: (height + thickness) * u),
            Box(minX: -thickness * u, minY: 0, maxX: 0, maxY: height * u),
            Box(minX: width * u, minY: 0, maxX: (width + thickness) * u, maxY: height * u),
        ]
        boxes += obstacles.map { Box(minX: $0.0 * u, minY: $0.1 * u, maxX: $0.2 * u, maxY: $0.3 * u) }
        walls = boxes
        spawnPoints = spawns.map { ($0.0 * u + u / 2, $0.1 * u + u / 2) }
    }

    /// 48 × 32 units: a central block, four pillars, two long cover walls; eight spawn points.
    public static let standard = ArenaMap(
        name: "default", width: 48, height: 32,
        obstacles: [(21, 13, 27, 19), (8, 6, 10, 8), (38, 6, 40, 8), (8, 24, 10, 26), (38, 24, 40, 26), (14, 3, 16, 11), (32, 21, 34, 29)],
        spawns: [(2, 2), (45, 2), (2, 29), (45, 29), (23, 2), (23, 29), (2, 15), (45, 15)])

    /// A bare room (for tests that need no cover).
    public static let empty = ArenaMap(name: "empty", width: 48, height: 32, obstacles: [], spawns: [(4, 16), (44, 16), (24, 4), (24, 28)])

    /// Every map, the default first: the names the control port accepts (``ArenaRules/catalogEntry``).
    public static let all: [ArenaMap] = [.standard, .empty]

    /// The map of that name. Settings reach the game validated against ``all``; a name outside
    /// it (a hand-made match) plays the default map.
    public static func named(_ name: String) -> ArenaMap { all.first { $0.name == name } ?? .standard }
}
