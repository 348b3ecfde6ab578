import Foundation
import MatchContract

#if canImport(Glibc)
import Glibc
#endif

/// Match reports on disk until the control port has stored them: each is written (and synced)
/// before it is delivered and removed only once delivery succeeded, so a report survives a
/// database that is busy or full, and a crash at any moment. One file per match, owner-only.
public struct ResultsOutbox: Sendable {
    public let directory: String

    public enum Failure: Error, CustomStringConvertible {
        case cannotCreate(String, Int32)
        case cannotWrite(String, Int32)

        public var description: String {
            switch self {
            case .cannotCreate(let path, let code): "cannot create \(path): \(String(cString: strerror(code)))"
            case .cannotWrite(let path, let code): "cannot write \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    /// Opens (creating, mode 0700) the outbox folder.
    public init(directory: String) throws {
        self.directory = directory
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw Failure.cannotCreate(directory, errno) }
        chmod(directory, 0o700)
    }

    private func path(of matchID: UInt64) -> String { (directory as NSString).appendingPathComponent("\(matchID).json") }

    /// Writes `report` durably: a temporary file, synced, renamed over the final name, and the
    /// folder synced, so that a crash leaves either the whole report or none.
    public func store(_ report: MatchReport) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let data = try encoder.encode(report)
        let final = path(of: report.matchID)
        let temporary = final + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw Failure.cannotWrite(temporary, errno) }
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        let code = errno
        close(descriptor)
        guard written == data.count, synced else {
            unlink(temporary)
            throw Failure.cannotWrite(temporary, code)
        }
        guard rename(temporary, final) == 0 else { throw Failure.cannotWrite(final, errno) }
        let folder = open(directory, O_RDONLY)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    /// Every report waiting for delivery, oldest match end first. A file that cannot be read as
    /// a report (cut short by a full disk before the rename was possible, say) is set aside as
    /// `.bad`, never deleted.
    public func pending() -> [MatchReport] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var reports: [MatchReport] = []
        for name in names where name.hasSuffix(".json") {
            let file = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: file), let report = try? decoder.decode(MatchReport.self, from: data)
            else {
                rename(file, file + ".bad")
                continue
            }
            reports.append(report)
        }
        return reports.sorted { $0.endedAt != $1.endedAt ? $0.endedAt < $1.endedAt : $0.matchID < $1.matchID }
    }

    /// The report was stored by the control port: forget it.
    public func remove(matchID: UInt64) {
        unlink(path(of: matchID))
    }
}
