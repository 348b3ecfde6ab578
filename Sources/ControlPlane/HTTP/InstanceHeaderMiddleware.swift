import Hummingbird

/// Names the process that answered in `X-Arbiter-Instance` on every response, errors included,
/// so that behind a load balancer a client (or an operator's curl) can tell the control ports
/// apart.
struct InstanceHeaderMiddleware: RouterMiddleware {
    let instanceID: String
    static let header = HTTPFields.Element.Name("X-Arbiter-Instance")!

    func handle(
        _ request: Request, context: ArbiterRequestContext,
        next: (Request, ArbiterRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            var response = try await next(request, context)
            response.headers[Self.header] = instanceID
            return response
        } catch let error as any HTTPResponseError {
            var response = try error.response(from: request, context: context)
            response.headers[Self.header] = instanceID
            return response
        }
    }
}
