import Hummingbird

/// The address of `GET /v1/play` as the client reached this control port, for the join answer's
/// `websocket_url`: the scheme follows the control port's TLS (`wss`) or, behind a trusted proxy,
/// its `X-Forwarded-Proto`; the host is the request's `Host` or the proxy's `X-Forwarded-Host`.
enum PlayURL {
    static let path = "/v1/play"

    static func webSocket(for request: Request, context: ArbiterRequestContext, servesTLS: Bool) -> String {
        let secure = context.forwardedProto.map { $0.lowercased() == "https" || $0.lowercased() == "wss" } ?? servesTLS
        let host = [context.forwardedHost, request.head.authority].compactMap { $0 }.first(where: isPlausibleHost) ?? "localhost"
        return "\(secure ? "wss" : "ws")://\(host)\(path)"
    }

    /// A host name or address with an optional port, nothing that could change the URL's shape.
    static func isPlausibleHost(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 255 && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "_"):
                true
            default:
                false
            }
        }
    }
}
