import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Who is calling, once the session token checked out.
public struct Identity: Sendable {
    public let playerID: Int64
    public let username: String
    public let sessionID: Int64
    /// When the session expires (what ``SessionCache`` never remembers it past).
    public internal(set) var sessionExpiresAt: Date = .distantFuture
    /// Named by `arbiter serve --operator` (set by ``AuthMiddleware`` on every request).
    public internal(set) var isOperator = false
}

/// The per-request context: the caller's identity (set by ``AuthMiddleware``), their address
/// (for rate limits), JSON in snake_case, and a 64 KiB body limit.
public struct ArbiterRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<ArbiterRequestContext>
    public var identity: Identity?
    /// The TCP peer's IP address, or "unknown" when the channel has none (e.g. router tests).
    public let peerAddress: String
    /// The connection the request came on: a WebSocket route that must let go of a client that
    /// stopped talking or reading closes it (``PlaySocket``, the chat socket), since cancelling
    /// the socket's reader or a waiting write would not.
    let channel: any Channel
    /// The address rate limits are keyed by: the peer's, or, when the peer is a trusted proxy,
    /// the one it names (see ``ClientAddressMiddleware``).
    public internal(set) var clientAddress: String
    /// What a trusted proxy says the client asked for: `X-Forwarded-Proto` and `X-Forwarded-Host`
    /// (nil when absent, or when the peer is not a trusted proxy). URLs the control port hands
    /// out for itself (the join answer's `websocket_url`) follow them.
    public internal(set) var forwardedProto: String?
    public internal(set) var forwardedHost: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
        peerAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
        clientAddress = peerAddress
    }

    public var maxUploadSize: Int { 64 * 1024 }

    /// One decoder and one encoder for every request (configured once, never changed: both are
    /// safe to share), not one made per request.
    public var requestDecoder: JSONDecoder { Self.decoder }
    public var responseEncoder: JSONEncoder { Self.encoder }

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The caller, or 401.
    public func requireIdentity() throws -> Identity {
        guard let identity else { throw APIError.unauthorized }
        return identity
    }

    /// The caller if an operator; 401 without a session, 403 `forbidden` for anyone else.
    public func requireOperator() throws -> Identity {
        let identity = try requireIdentity()
        guard identity.isOperator else { throw APIError.forbidden("only an operator (arbiter serve --operator) may use the console") }
        return identity
    }
}

/// Resolves `Authorization: Bearer <token>` to an ``Identity``; 401 when missing, unknown,
/// expired or revoked. (Only the chat WebSocket also takes `?token=`, since browsers cannot set
/// headers on it; tokens in URLs end up in logs, so no other route does.)
struct AuthMiddleware: RouterMiddleware {
    let accounts: Accounts

    func handle(
        _ request: Request, context: ArbiterRequestContext,
        next: (Request, ArbiterRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        guard let token = Self.token(in: request), let identity = try await accounts.identity(forToken: token) else {
            throw APIError.unauthorized
        }
        var checked = identity
        checked.isOperator = accounts.isOperator(identity.username)
        context.identity = checked
        return try await next(request, context)
    }

    static func token(in request: Request, allowQuery: Bool = false) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
            return nil
        }
        return allowQuery ? request.uri.queryParameters.get("token") : nil
    }
}

/// Believes `X-Forwarded-For` only from the configured reverse proxies: when the peer is one of
/// them, the header's last entry (the address the proxy itself saw) becomes the client address.
/// Anyone else's header is ignored, so a client cannot pick the address its rate limits use.
/// `X-Forwarded-Proto` and `X-Forwarded-Host` likewise (their last entries).
struct ClientAddressMiddleware: RouterMiddleware {
    /// Entries that are addresses or CIDR blocks, and the rest matched as they are written
    /// (the peer of an in-memory test is "unknown").
    let ranges: [AddressRange]
    let exact: Set<String>
    static let forwardedFor = HTTPFields.Element.Name("X-Forwarded-For")!
    static let forwardedProto = HTTPFields.Element.Name("X-Forwarded-Proto")!
    static let forwardedHost = HTTPFields.Element.Name("X-Forwarded-Host")!

    init(trustedProxies: Set<String>) {
        ranges = trustedProxies.compactMap(AddressRange.init)
        exact = trustedProxies
    }

    func trusts(_ peer: String) -> Bool { exact.contains(peer) || ranges.contains { $0.contains(peer) } }

    func handle(
        _ request: Request, context: ArbiterRequestContext,
        next: (Request, ArbiterRequestContext) async throws -> Response
    ) async throws -> Response {
        guard trusts(context.peerAddress) else { return try await next(request, context) }
        func last(_ name: HTTPFields.Element.Name, maxBytes: Int) -> String? {
            guard let header = request.headers[name] else { return nil }
            let last = header.split(separator: ",").last.map { $0.trimmingCharacters(in: CharacterSet.whitespaces) } ?? ""
            return !last.isEmpty && last.utf8.count <= maxBytes ? last : nil
        }
        var context = context
        if let address = last(Self.forwardedFor, maxBytes: 64) { context.clientAddress = address }
        context.forwardedProto = last(Self.forwardedProto, maxBytes: 8)
        context.forwardedHost = last(Self.forwardedHost, maxBytes: 255)
        return try await next(request, context)
    }
}


extension Request {
    /// The whole body, kept in the request so that it can be decoded after; 413 beyond the limit.
    mutating func collectedBody(context: ArbiterRequestContext) async throws -> ByteBuffer {
        do {
            return try await collectBody(upTo: context.maxUploadSize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "body_too_large", "request bodies are limited to \(context.maxUploadSize) bytes")
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "request bodies are limited to \(context.maxUploadSize) bytes")
        }
    }

    /// Decodes the JSON body with the context's decoder; 400 with a clear message otherwise,
    /// naming fields as the API spells them (snake_case, `settings.max_players`, `lines[2].score`).
    func json<T: Decodable>(_ type: T.Type, context: ArbiterRequestContext) async throws -> T {
        do {
            // The decoder itself, not `Request.decode`: that one turns a DecodingError into
            // text with the Swift property names (`settings.maxPlayers`).
            return try await context.requestDecoder.decode(type, from: self, context: context)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "body_too_large", "request bodies are limited to \(context.maxUploadSize) bytes")
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "request bodies are limited to \(context.maxUploadSize) bytes")
        } catch let error as DecodingError {
            throw APIError.badRequest("invalid JSON body: \(Self.describe(error))", code: "invalid_body")
        } catch let error as HTTPError where error.status == .badRequest {
            throw APIError.badRequest("invalid JSON body: \(error.body ?? "unreadable")", code: "invalid_body")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context): "missing field '\(wirePath(context.codingPath + [key]))'"
        case .typeMismatch(let type, let context):
            "'\(wirePath(context.codingPath))' must be \(jsonKind(type))"
        case .valueNotFound(let type, let context):
            "'\(wirePath(context.codingPath))' must be \(jsonKind(type)), not null"
        case .dataCorrupted(let context):
            context.codingPath.isEmpty ? "not valid JSON" : "bad value at '\(wirePath(context.codingPath))'"
        @unknown default: "unreadable"
        }
    }

    /// A coding path as the JSON spells it: keys in snake_case (what `convertFromSnakeCase`
    /// maps to the Swift name, so also right for explicit `CodingKeys` without raw values
    /// of their own), array positions as `[n]`.
    static func wirePath(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let index = key.intValue, key.stringValue.hasPrefix("Index ") || key.stringValue == String(index) {
                out += "[\(index)]"
            } else {
                out += (out.isEmpty ? "" : ".") + snakeCase(key.stringValue)
            }
        }
        return out
    }

    /// `maxPlayers` → `max_players`, `playerID` → `player_id`, `timeLimitSeconds` →
    /// `time_limit_seconds`; snake_case stays as it is. The same word breaks as
    /// `JSONEncoder.KeyEncodingStrategy.convertToSnakeCase`.
    static func snakeCase(_ name: String) -> String {
        let characters = Array(name)
        var out = ""
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0 {
                let previous = characters[index - 1]
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                // A word starts at an upper-case letter after a lower-case one or a digit, or at
                // the last capital of an acronym followed by a lower-case letter (`URLPath`).
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && next?.isLowercase == true) { out += "_" }
            }
            out += character.lowercased()
        }
        return out
    }

    /// What a JSON value of Swift type `type` looks like, for a type error.
    static func jsonKind(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is Substring.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type, is Int16.Type, is Int8.Type, is UInt.Type, is UInt64.Type, is UInt32.Type,
            is UInt16.Type, is UInt8.Type:
            "an integer"
        case is Double.Type, is Float.Type: "a number"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : (String(describing: type).hasPrefix("Dictionary") ? "an object" : "of another type")
        }
    }

    /// An integer query parameter within `range`, or the default; 400 when present but invalid.
    func queryInt(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = uri.queryParameters.get(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError.badRequest("query parameter '\(name)' must be an integer in \(range.lowerBound)...\(range.upperBound)", code: "invalid_query")
        }
        return number
    }

    /// The `cursor` query parameter as a non-negative id (0 when absent); 400 when malformed.
    func idCursor() throws -> Int64 {
        guard let text = uri.queryParameters.get("cursor") else { return 0 }
        guard let value = Int64(text), value >= 0 else { throw APIError.badRequest("invalid cursor", code: "invalid_query") }
        return value
    }
}

extension Parameters {
    /// A positive integer path parameter; 404 when it is not one (no such resource can exist).
    func id(_ name: String, _ what: String) throws -> Int64 {
        guard let text = get(name), let value = Int64(text), value > 0 else { throw APIError.notFound(what) }
        return value
    }
}
