import Foundation
import NetProtocol

/// The netcode 1.02 known-answer vectors computed by the reference implementation
/// (`Vectors/netcode-1.02-vectors.json`; see its README in shared/reference).
struct Vectors {
    let root: [String: Any]

    static func load() throws -> Vectors {
        guard let url = Bundle.module.url(forResource: "netcode-1.02-vectors", withExtension: "json", subdirectory: "Vectors")
        else { throw VectorError.missing("vector file") }
        let data = try Data(contentsOf: url)
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw VectorError.missing("root object")
        }
        return Vectors(root: root)
    }

    func section(_ name: String) throws -> [String: Any] {
        guard let value = root[name] as? [String: Any] else { throw VectorError.missing(name) }
        return value
    }

    func list(_ name: String) throws -> [[String: Any]] {
        guard let value = root[name] as? [[String: Any]] else { throw VectorError.missing(name) }
        return value
    }
}

enum VectorError: Error {
    case missing(String)
}

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) throws -> String {
        guard let value = self[key] as? String else { throw VectorError.missing(key) }
        return value
    }

    func bytes(_ key: String) throws -> [UInt8] {
        guard let value = Hex.decode(try string(key)) else { throw VectorError.missing("hex \(key)") }
        return value
    }

    func u64(_ key: String) throws -> UInt64 {
        guard let value = UInt64(try string(key)) else { throw VectorError.missing("u64 \(key)") }
        return value
    }

    func int(_ key: String) throws -> Int {
        guard let value = self[key] as? Int else { throw VectorError.missing("int \(key)") }
        return value
    }

    func bool(_ key: String) throws -> Bool {
        guard let value = self[key] as? Bool else { throw VectorError.missing("bool \(key)") }
        return value
    }

    func object(_ key: String) throws -> [String: Any] {
        guard let value = self[key] as? [String: Any] else { throw VectorError.missing(key) }
        return value
    }

    func objects(_ key: String) throws -> [[String: Any]] {
        guard let value = self[key] as? [[String: Any]] else { throw VectorError.missing(key) }
        return value
    }

    func key(_ name: String) throws -> SymmetricKey {
        guard let key = SymmetricKey(bytes: try bytes(name)) else { throw VectorError.missing("key \(name)") }
        return key
    }

    func addresses(_ name: String) throws -> [NetAddress] {
        guard let strings = self[name] as? [String] else { throw VectorError.missing(name) }
        return try strings.map { text in
            guard let address = NetAddress(text) else { throw VectorError.missing("address \(text)") }
            return address
        }
    }
}
