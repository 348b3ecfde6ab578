import CSodium
import Foundation
import Hummingbird
import NIOCore
import NetProtocol

/// The browser pages the control port serves: `/play`, `/console`, the files beside them under
/// `/web/…` and the JavaScript client under `/js/…`.
///
/// Read once, at start, from a `Clients` folder (`web/` and `js/`) into memory, and looked up by
/// the exact request path in a table built from what was read: no request ever names a file on
/// disk, so no path (`..`, encoded or not, a symbolic link, an absolute path) can reach one the
/// table does not hold. Files under `js/test` and `js/test-support` (the node tests and their
/// vectors) and files of types not listed in ``contentTypes`` are left out.
public struct WebPages: Sendable {
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: String
        /// A strong validator of the bytes (a hash), for `If-None-Match`.
        let entityTag: String
    }

    let assets: [String: Asset]
    /// The folder they were read from; nil when none was found (every page is then a 404 that
    /// says how to name one).
    public let root: String?

    /// No pages: what a control port without a `Clients` folder (or a router test) serves.
    public static let none = WebPages(assets: [:], root: nil)

    /// The request paths served, sorted (for logs and tests).
    public var paths: [String] { assets.keys.sorted() }

    /// By file name extension: the only kinds of file served.
    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "json": "application/json",
        "png": "image/png",
        "svg": "image/svg+xml",
        "ico": "image/x-icon",
    ]

    static let referrerPolicy = HTTPFields.Element.Name("Referrer-Policy")!

    /// The pages' own addresses, besides `/web/<file>`.
    static let pageRoutes = ["/play": "play.html", "/console": "console.html"]

    /// Reads `root`'s `web/` and `js/` folders; throws when `root/web/play.html` is missing.
    public static func load(root: String) throws -> WebPages {
        let base = URL(fileURLWithPath: root, isDirectory: true).standardizedFileURL
        guard FileManager.default.fileExists(atPath: base.appendingPathComponent("web/play.html").path) else {
            throw WebPagesError.notAPagesFolder(base.path)
        }
        var assets: [String: Asset] = [:]
        for (relative, url) in files(under: base.appendingPathComponent("web", isDirectory: true)) {
            guard let asset = try asset(at: url) else { continue }
            assets["/web/" + relative] = asset
        }
        for (relative, url) in files(under: base.appendingPathComponent("js", isDirectory: true)) {
            // The node tests and their vectors are for node, not for pages.
            if relative.hasPrefix("test/") || relative.hasPrefix("test-support/") { continue }
            guard let asset = try asset(at: url) else { continue }
            assets["/js/" + relative] = asset
        }
        for (route, file) in pageRoutes {
            if let page = assets["/web/" + file] { assets[route] = page }
        }
        return WebPages(assets: assets, root: base.path)
    }

    /// The first of `candidates` that holds `web/play.html`, each tried as it is and as its
    /// `Clients` subfolder (a checkout's root).
    public static func locate(candidates: [String]) -> String? {
        for candidate in candidates {
            let folder = URL(fileURLWithPath: candidate, isDirectory: true).standardizedFileURL
            for option in [folder, folder.appendingPathComponent("Clients", isDirectory: true)]
            where FileManager.default.fileExists(atPath: option.appendingPathComponent("web/play.html").path) {
                return option.path
            }
        }
        return nil
    }

    /// Where a checkout's `Clients` folder may be for an executable at `executablePath` (under
    /// `.build/…/debug` or `.build/bin`, through symbolic links) or run from `workingDirectory`:
    /// the executable's real folder and each folder above it, then the working directory.
    public static func candidates(executablePath: String, workingDirectory: String) -> [String] {
        var out: [String] = []
        var folder = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/" && !folder.path.isEmpty {
            out.append(folder.path)
            folder = folder.deletingLastPathComponent()
        }
        out.append(workingDirectory)
        return out
    }

    /// Regular files below `folder` (not following links out of it), by path relative to it.
    private static func files(under folder: URL) -> [(String, URL)] {
        guard let walker = FileManager.default.enumerator(
            at: folder, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { return [] }
        let prefix = folder.resolvingSymlinksInPath().path + "/"
        var out: [(String, URL)] = []
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let path = url.resolvingSymlinksInPath().path
            guard path.hasPrefix(prefix) else { continue }
            out.append((String(path.dropFirst(prefix.count)), url))
        }
        return out.sorted { $0.0 < $1.0 }
    }

    private static func asset(at url: URL) throws -> Asset? {
        guard let type = contentTypes[url.pathExtension.lowercased()] else { return nil }
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        var digest = [UInt8](repeating: 0, count: 16)
        _ = crypto_generichash(&digest, 16, bytes, UInt64(bytes.count), nil, 0)
        return Asset(body: ByteBuffer(bytes: data), contentType: type, entityTag: "\"" + Hex.encode(digest) + "\"")
    }

    /// The answer to `GET path`: the file, 304 when `If-None-Match` names its tag, else 404 in
    /// the API's error shape.
    func response(path: String, ifNoneMatch: String?) throws -> Response {
        guard let asset = assets[path] else {
            if root == nil {
                throw APIError(.notFound, "not_found", "no web pages were found: start arbiter serve from a checkout, or name its Clients folder with --web-root")
            }
            throw APIError.notFound("page")
        }
        var headers = HTTPFields()
        headers[.eTag] = asset.entityTag
        // Module URLs carry no version, so a browser must ask again each time; the tag makes
        // that a 304 without a body while nothing changed.
        headers[.cacheControl] = "no-cache"
        headers[.xContentTypeOptions] = "nosniff"
        if asset.contentType.hasPrefix("text/html") {
            headers[.contentSecurityPolicy] =
                "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
            headers[Self.referrerPolicy] = "no-referrer"
        }
        if let ifNoneMatch, ifNoneMatch.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.entityTag }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = asset.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }
}

public enum WebPagesError: Error, CustomStringConvertible {
    case notAPagesFolder(String)

    public var description: String {
        switch self {
        case .notAPagesFolder(let path): "\(path) holds no web/play.html (name the checkout's Clients folder)"
        }
    }
}

extension ControlPlaneRoutes {
    func addWebPageRoutes(_ router: Router<ArbiterRequestContext>) {
        let pages = services.web
        let serve: @Sendable (Request, ArbiterRequestContext) async throws -> Response = { request, _ in
            try pages.response(path: request.uri.path, ifNoneMatch: request.headers[.ifNoneMatch])
        }
        for route in WebPages.pageRoutes.keys { router.get(RouterPath(route), use: serve) }
        router.get("/web/**", use: serve)
        router.get("/js/**", use: serve)
    }
}
