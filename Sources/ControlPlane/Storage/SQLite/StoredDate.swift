import Foundation
import GRDB

/// A date bound as GRDB stores one (TEXT `yyyy-MM-dd HH:mm:ss.SSS`, UTC, to the nearest
/// millisecond), formatted here by arithmetic. GRDB formats through a shared `DateFormatter`
/// (ICU, behind a lock): on the resume path, where every rotation binds half a dozen dates on
/// the one writer thread, that formatter was the writer's largest cost after the disk. Same
/// text, so stored rows and comparisons in SQL are as before (`StoredDateTests`).
struct StoredDate: DatabaseValueConvertible {
    let date: Date

    init(_ date: Date) { self.date = date }

    var databaseValue: DatabaseValue {
        // Milliseconds since 1970 to the nearest, as Foundation hands them to ICU.
        let milliseconds = ((date.timeIntervalSinceReferenceDate + Date.timeIntervalBetween1970AndReferenceDate) * 1000 + 0.5).rounded(.down)
        // Years 1970...9999 only; anything else the way GRDB does it.
        guard milliseconds >= 0, milliseconds < 253_402_300_800_000 else { return date.databaseValue }
        let total = Int(milliseconds)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(23)
        CivilDate.appendTimestamp(total / 1000, separator: UInt8(ascii: " "), to: &bytes)
        bytes.append(UInt8(ascii: "."))
        CivilDate.append(total % 1000, digits: 3, to: &bytes)
        return String(decoding: bytes, as: UTF8.self).databaseValue
    }

    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StoredDate? {
        Date.fromDatabaseValue(dbValue).map(StoredDate.init)
    }
}
