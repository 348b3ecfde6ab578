import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Why an HTTP request to a control port never got an answer, in a few words ("connection
/// refused"): what `arbiter play --control` and `botswarm` say when they cannot reach it.
public func connectionFailure(_ error: any Error) -> String {
    guard let error = error as? URLError else { return String(describing: error) }
    switch error.code {
    case .cannotConnectToHost: return "connection refused"
    case .timedOut: return "no answer within 30 s"
    case .cannotFindHost, .dnsLookupFailed: return "unknown host"
    case .networkConnectionLost: return "the connection was closed"
    case .unsupportedURL, .badURL: return "not an http:// or https:// URL"
    case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
        .serverCertificateHasUnknownRoot:
        return "TLS failed: \(error.localizedDescription)"
    default: return error.localizedDescription
    }
}
