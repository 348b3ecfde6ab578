import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small JSON client for the control port.
struct ControlPort: Sendable {
    let base: String
    let session: URLSession

    init(base: String) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 16
        configuration.timeoutIntervalForRequest = 30
        session = URLSession(configuration: configuration)
    }

    struct Failure: Error, CustomStringConvertible {
        let status: Int
        let body: String
        var description: String { "HTTP \(status): \(body.prefix(200))" }
    }

    func call(_ method: String, _ path: String, token: String? = nil, body: [String: Any]? = nil) async throws -> (Int, [String: Any]) {
        guard let url = URL(string: base + path) else { throw Failure(status: 0, body: "bad URL \(base + path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await session.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        return (status, json)
    }

    /// Calls and requires a 2xx answer.
    func expect(_ method: String, _ path: String, token: String? = nil, body: [String: Any]? = nil) async throws -> [String: Any] {
        let (status, json) = try await call(method, path, token: token, body: body)
        guard (200..<300).contains(status) else {
            let error = json["error"] as? [String: Any]
            let message = (error?["message"] as? String).map { "\($0) (\(error?["code"] as? String ?? "no code"))" }
            throw Failure(status: status, body: message ?? String(describing: json))
        }
        return json
    }
}

/// Bot accounts saved between runs, so the password hash cost is paid once.
struct AccountBook: Codable {
    struct Account: Codable {
        var username: String
        var password: String
    }

    var accounts: [Account] = []

    static func load(_ path: String?) -> AccountBook {
        guard let path, let data = FileManager.default.contents(atPath: path),
            let book = try? JSONDecoder().decode(AccountBook.self, from: data)
        else { return AccountBook() }
        return book
    }

    func save(_ path: String?) {
        guard let path, let data = try? JSONEncoder().encode(self) else { return }
        _ = FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
    }
}

/// Runs `work` for every element with at most `limit` in flight.
func forEachConcurrently<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ work: @escaping @Sendable (Int, T) async -> R) async -> [R] {
    await withTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        for _ in 0..<min(limit, items.count) {
            let index = next
            group.addTask { (index, await work(index, items[index])) }
            next += 1
        }
        for await (index, result) in group {
            results[index] = result
            if next < items.count {
                let index = next
                group.addTask { (index, await work(index, items[index])) }
                next += 1
            }
        }
        return results.compactMap { $0 }
    }
}
