import Hummingbird

/// The join answer's `websocket_url`: the match's game server's ``PlayEndpoint`` when the
/// deployment names one, else `GET /v1/play` as the client reached this control port. Scheme and
/// host follow the request: `wss` when the control port serves TLS or, behind a trusted proxy,
/// its `X-Forwarded-Proto` says so; the request's `Host` or the proxy's `X-Forwarded-Host`.
enum PlayURL {
    static let path = "/v1/play"

    static func webSocket(for request: Request, context: ArbiterRequestContext, servesTLS: Bool, endpoint: PlayEndpoint? = nil) -> String {
        if case .url(let url) = endpoint { return url }
        let secure = context.forwardedProto.map { $0.lowercased() == "https" || $0.lowercased() == "wss" } ?? servesTLS
        let host = [context.forwardedHost, request.head.authority].compactMap { $0 }.first(where: isPlausibleHost) ?? "localhost"
        let path = if case .path(let path) = endpoint { path } else { Self.path }
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
