import Foundation

/// Where clients reach a game server's `GET /v1/play`, as a deployment names it (`arbiter serve
/// --play-url`), for the join answer's `websocket_url`. Behind a load balancer, a WebSocket must
/// reach the instance whose game server runs the match, whichever instance answered the join:
/// either a path of its own that the balancer routes to that instance alone, on whatever host the
/// client reached the control port at, or a whole URL on a host of its own.
public enum PlayEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// `/instances/2/v1/play`: scheme and host follow the request (``PlayURL``).
    case path(String)
    /// `wss://game-2.example.com/v1/play`, given as is.
    case url(String)

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// A path (starting with `/`, without query or fragment) or a `ws://` or `wss://` URL with a
    /// host and no user, query or fragment; at most 512 bytes.
    public init(parsing text: String) throws(ParseError) {
        guard !text.isEmpty, text.utf8.count <= 512 else { throw ParseError(description: "must be 1...512 bytes") }
        if text.hasPrefix("/") {
            guard Self.isPlainPath(text) else {
                throw ParseError(description: "must be a path of letters, digits and - . _ ~ / (no query, fragment or escapes); got '\(text)'")
            }
            self = .path(text)
            return
        }
        guard let parts = URLComponents(string: text), let scheme = parts.scheme?.lowercased(), scheme == "ws" || scheme == "wss",
            let host = parts.host, !host.isEmpty, parts.user == nil, parts.password == nil, parts.query == nil, parts.fragment == nil,
            parts.path.isEmpty || Self.isPlainPath(parts.path)
        else {
            throw ParseError(description: "must be a path (/instances/2/v1/play) or a ws:// or wss:// URL with a host and no query; got '\(text)'")
        }
        self = .url(text)
    }

    public var description: String {
        switch self {
        case .path(let path): path
        case .url(let url): url
        }
    }

    private static func isPlainPath(_ text: String) -> Bool {
        text.hasPrefix("/") && !text.contains("//") && text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                true
            default:
                false
            }
        }
    }
}
