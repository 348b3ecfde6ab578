/// The OpenAPI 3.1 description of every HTTP route, served at `GET /openapi.json`.
enum OpenAPIDocument {
    static let json = #"{"openapi":"3.1.0","info":{"title":"Arbiter control port","version":"0.1.0"},"paths":{}}"#
}
