import Foundation
import Hummingbird

/// Writes one JSON object byte by byte, in the shape the control port's `JSONEncoder` gives
/// (keys as written, so callers write them sorted; strings escaped as it escapes them, slashes
/// not; dates ISO 8601 in UTC to the second): for the few answers on a storm's path (a resume is
/// answered thousands of times a second), where the generic encoder was the largest cost after
/// the database. Each user of it has a test that its bytes equal `JSONEncoder`'s.
struct JSONObjectWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    mutating func field(_ key: StaticString, _ value: String) {
        self.key(key)
        string(value)
    }

    mutating func field(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        field(key, value)
    }

    mutating func field(_ key: StaticString, _ value: Int64) {
        self.key(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func field(_ key: StaticString, _ value: Bool) {
        self.key(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func field(_ key: StaticString, _ value: Date) {
        self.key(key)
        date(value)
    }

    mutating func field(_ key: StaticString, _ value: Date?) {
        guard let value else { return }
        field(key, value)
    }

    /// A nested object, whose fields `body` writes.
    mutating func field(_ key: StaticString, object body: (inout JSONObjectWriter) -> Void) {
        self.key(key)
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    func finished() -> [UInt8] { bytes + [UInt8(ascii: "}")] }

    /// The object as a 200 answer, with the headers Hummingbird's JSON encoder sets.
    func response(status: HTTPResponse.Status = .ok) -> Response {
        let body = finished()
        var headers = HTTPFields()
        headers.reserveCapacity(4)
        headers.append(.init(name: .contentType, value: "application/json; charset=utf-8"))
        headers.append(.init(name: .contentLength, value: String(body.count)))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private mutating func key(_ key: StaticString) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: "\":".utf8)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: "\\\\".utf8)
            case 0x08: bytes.append(contentsOf: "\\b".utf8)
            case 0x0C: bytes.append(contentsOf: "\\f".utf8)
            case 0x0A: bytes.append(contentsOf: "\\n".utf8)
            case 0x0D: bytes.append(contentsOf: "\\r".utf8)
            case 0x09: bytes.append(contentsOf: "\\t".utf8)
            case 0x00..<0x20:
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `yyyy-MM-ddTHH:mm:ssZ`, as `JSONEncoder.DateEncodingStrategy.iso8601` writes it (seconds
    /// rounded down); outside years 1970...9999, as the encoder itself writes it.
    private mutating func date(_ value: Date) {
        let seconds = value.timeIntervalSince1970.rounded(.down)
        guard seconds >= 0, seconds < 253_402_300_800 else {
            bytes.append(contentsOf: (try? ArbiterRequestContext.encoder.encode(value)) ?? Data("null".utf8))
            return
        }
        bytes.append(UInt8(ascii: "\""))
        CivilDate.appendTimestamp(Int(seconds), separator: UInt8(ascii: "T"), to: &bytes)
        bytes.append(contentsOf: "Z\"".utf8)
    }
}
