@testable import ControlPlane
import Foundation
import GameCore
import Hummingbird
import HummingbirdTesting
import MatchContract
import Testing

@Suite struct OpenAPIDocumentTests {
    let arena = GameCatalog([ArenaRules.catalogEntry])
    let twoModes = GameCatalog([.init(name: "arena", maps: ["ruins", "default"]), .init(name: "tag", maps: ["default", "yard"])])

    func properties(_ document: [String: Any], _ schema: String) throws -> [String: [String: Any]] {
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        return try #require((schemas[schema] as? [String: Any])?["properties"] as? [String: [String: Any]])
    }

    /// The file describes the default deployment as it is, so that a reader of the file sees the
    /// real values: after a change to MatchSettings' ranges or the arena's maps, update the file.
    @Test func theResourceAsWrittenIsTheDefaultDeploymentsDocument() throws {
        let written = try JSONSerialization.data(withJSONObject: OpenAPIDocument.resource(), options: OpenAPIDocument.writingOptions)
        #expect(try OpenAPIDocument.json(catalog: arena) == written)
    }

    @Test func theSettingsSchemasQuoteTheCatalogAndTheRanges() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIDocument.json(catalog: twoModes)) as? [String: Any])
        for schema in OpenAPIDocument.settingsSchemas {
            let fields = try properties(document, schema)
            #expect(fields["mode"]?["enum"] as? [String] == ["arena", "tag"], "\(schema)")
            #expect(fields["map"]?["enum"] as? [String] == ["default", "ruins", "yard"], "\(schema)")
            for (field, range) in [("max_players", MatchSettings.maxPlayersRange), ("tick_rate", MatchSettings.tickRateRange),
                                   ("score_limit", MatchSettings.scoreLimitRange), ("time_limit_seconds", MatchSettings.timeLimitRange)] {
                #expect(fields[field]?["minimum"] as? Int == range.lowerBound, "\(schema).\(field)")
                #expect(fields[field]?["maximum"] as? Int == range.upperBound, "\(schema).\(field)")
            }
        }
        // Only those values change: the rest of the schema stays as written.
        let written = try properties(OpenAPIDocument.resource(), "GameSettingsInput")
        #expect(try properties(document, "GameSettingsInput")["tick_rate"]?["type"] as? [String] == written["tick_rate"]?["type"] as? [String])
        #expect(try properties(document, "GameSettings")["tick_rate"]?["description"] as? String != nil)
    }

    @Test func theBytesAreReproducibleAndReadable() throws {
        let first = try OpenAPIDocument.json(catalog: twoModes)
        #expect(try OpenAPIDocument.json(catalog: twoModes) == first)
        let text = try #require(String(data: first, encoding: .utf8))
        // References stay readable: "#/components/...", not "#\/components\/...".
        #expect(text.contains("\"#/components/schemas/Health\""))
    }

    @Test func theRouteServesTheDocumentWithoutAToken() async throws {
        let plane = try await TestControlPlane()
        try await plane.application.test(.router) { client in
            let reply = try await client.call(.get, "/openapi.json")
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType] == "application/json")
            #expect(reply.body == (try OpenAPIDocument.json(catalog: plane.services.hosting.catalog)))
            #expect(reply.string("openapi") == "3.1.0")
        }
    }
}
