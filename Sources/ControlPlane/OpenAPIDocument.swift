import Foundation
import MatchContract

/// The OpenAPI 3.1 description of every HTTP route, served at `GET /openapi.json`.
/// Checked against the implementation by `tools/openapi-check` (schemathesis).
///
/// The text lives in `Resources/openapi.json` (edited by hand, embedded at build time) and
/// describes the default deployment. The settings schemas quote ``MatchSettings``' ranges and
/// the hosted ``GameCatalog``, so at startup those values are replaced in the parsed document,
/// and the document says what the validation does for any catalog.
enum OpenAPIDocument {
    /// The resource does not have the shape the patching expects: a programming error that
    /// `OpenAPIDocumentTests` catches, never caused by a request.
    struct MalformedResource: Error, CustomStringConvertible {
        let description: String
    }

    /// The schemas of the game settings (as stored, and as a create or update request sends them).
    static let settingsSchemas = ["GameSettings", "GameSettingsInput"]

    static let settingRanges: [(field: String, range: ClosedRange<Int>)] = [
        ("max_players", MatchSettings.maxPlayersRange),
        ("tick_rate", MatchSettings.tickRateRange),
        ("score_limit", MatchSettings.scoreLimitRange),
        ("time_limit_seconds", MatchSettings.timeLimitRange),
    ]

    /// Pretty-printed with sorted keys, so that the same catalog always gives the same bytes.
    static let writingOptions: JSONSerialization.WritingOptions = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]

    /// The resource as written, parsed.
    static func resource() throws -> [String: Any] {
        let bytes = Data(PackageResources.openapi_json)
        guard let document = try JSONSerialization.jsonObject(with: bytes) as? [String: Any] else {
            throw MalformedResource(description: "openapi.json is not a JSON object")
        }
        return document
    }

    /// The document for a deployment that hosts `catalog`.
    static func document(catalog: GameCatalog) throws -> [String: Any] {
        var document = try resource()
        try update(&document, at: ["components", "schemas"]) { schemas in
            for schema in settingsSchemas {
                try update(&schemas, at: [schema, "properties"]) { properties in
                    try update(&properties, at: ["mode"]) { $0["enum"] = catalog.modes }
                    try update(&properties, at: ["map"]) { $0["enum"] = catalog.allMaps }
                    for (field, range) in settingRanges {
                        try update(&properties, at: [field]) {
                            $0["minimum"] = range.lowerBound
                            $0["maximum"] = range.upperBound
                        }
                    }
                }
            }
        }
        return document
    }

    /// The bytes `GET /openapi.json` serves.
    static func json(catalog: GameCatalog) throws -> Data {
        try JSONSerialization.data(withJSONObject: document(catalog: catalog), options: writingOptions)
    }

    /// Edits the object at `path` inside `object` in place; a missing or non-object step throws.
    private static func update(
        _ object: inout [String: Any], at path: ArraySlice<String>, _ body: (inout [String: Any]) throws -> Void
    ) throws {
        guard let key = path.first else { return try body(&object) }
        guard var child = object[key] as? [String: Any] else {
            throw MalformedResource(description: "openapi.json has no object at \"\(key)\"")
        }
        try update(&child, at: path.dropFirst(), body)
        object[key] = child
    }
}
