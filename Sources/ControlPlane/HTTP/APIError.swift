import Foundation
import Hummingbird
import NIOCore

/// Every error the control port answers with: `{"error": {"code": "...", "message": "..."}}`
/// and the matching status. Codes are stable strings clients can switch on.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
        }
        let error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = (try? Self.encoder.encode(Body(error: .init(code: code, message: message)))) ?? Data()
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func badRequest(_ message: String, code: String = "bad_request") -> APIError { APIError(.badRequest, code, message) }
    static func invalid(_ message: String, code: String = "validation_failed") -> APIError { APIError(.unprocessableContent, code, message) }
    static let unauthorized = APIError(.unauthorized, "unauthorized", "a valid session token is required (Authorization: Bearer <token>)")
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }
    static func notFound(_ what: String) -> APIError { APIError(.notFound, "not_found", "\(what) not found") }
    static func conflict(_ message: String, code: String = "conflict") -> APIError { APIError(.conflict, code, message) }
    static func tooManyRequests(retryAfter seconds: Double) -> APIError {
        let whole = max(1, Int(seconds.rounded(.up)))
        var headers = HTTPFields()
        headers[.retryAfter] = String(whole)
        return APIError(.tooManyRequests, "rate_limited", "too many attempts; retry after \(whole) s", headers: headers)
    }
    /// 503 `busy`: the server will not queue more of this work now (e.g. password hashing).
    static func busy(retryAfter seconds: Int = 1) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(max(1, seconds))
        return APIError(.serviceUnavailable, "busy", "the server is busy; retry after \(max(1, seconds)) s", headers: headers)
    }
}

/// Turns whatever a handler threw into the JSON error shape. Client mistakes become 4xx;
/// anything unexpected is logged and answered with a 500 that reveals nothing.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch StoreError.notFound(let what) {
            // Every route answers a missing thing alike; the other store errors mean something
            // different per route, which maps them itself (one it does not is a bug: 500).
            throw APIError.notFound(what.rawValue)
        } catch let error as HTTPError {
            let code: String = switch error.status {
            case .notFound: "not_found"
            case .contentTooLarge: "body_too_large"
            case .methodNotAllowed: "method_not_allowed"
            case .badRequest: "bad_request"
            case .unsupportedMediaType: "unsupported_media_type"
            default: "http_error"
            }
            throw APIError(error.status, code, error.body ?? error.status.reasonPhrase)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is too large")
        } catch PasswordHashingError.busy {
            throw APIError.busy()
        } catch is CancellationError {
            // The client went away (or the server is stopping): nobody reads this answer.
            throw APIError(.serviceUnavailable, "cancelled", "the request was cancelled")
        } catch is DecodingError {
            throw APIError.badRequest("the request body is not the JSON this route expects", code: "invalid_body")
        } catch {
            context.logger.error("unhandled error: \(String(reflecting: error))")
            throw APIError(.internalServerError, "internal", "internal error")
        }
    }
}
