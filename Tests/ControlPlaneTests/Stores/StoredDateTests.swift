@testable import ControlPlane
import Foundation
import GRDB
import Testing

/// ``StoredDate`` writes exactly the text GRDB's own date binding writes.
@Suite struct StoredDateTests {
    @Test func theTextIsGRDBsForEveryKindOfDate() {
        var random = SystemRandomNumberGenerator()
        var dates: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400), Date(timeIntervalSince1970: 4_107_542_399.9995),
            Date(timeIntervalSince1970: 1_900_000_000.0005), Date(timeIntervalSince1970: 1_900_000_000.999_999),
            Date(timeIntervalSince1970: 253_402_300_799.999), Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: 253_402_300_800),
            Date(), Date().addingTimeInterval(30 * 24 * 3600),
        ]
        for _ in 0..<20_000 { dates.append(Date(timeIntervalSince1970: Double.random(in: 0..<4_200_000_000, using: &random))) }
        // Near whole milliseconds, where truncation and rounding part.
        for _ in 0..<20_000 {
            let millis = Double(Int64.random(in: 1_000_000_000_000..<2_500_000_000_000, using: &random))
            dates.append(Date(timeIntervalSince1970: (millis + Double.random(in: -0.01...0.01, using: &random)) / 1000))
        }
        var mismatches: [String] = []
        for date in dates where StoredDate(date).databaseValue != date.databaseValue {
            mismatches.append("\(date.timeIntervalSince1970): \(StoredDate(date).databaseValue) vs \(date.databaseValue)")
        }
        let count = mismatches.count
        #expect(count == 0, "\(Array(mismatches.prefix(5)))")
    }

    @Test func aStoredDateReadsBackAsTheDateToTheMillisecond() throws {
        let date = Date(timeIntervalSince1970: 1_900_000_123.4567)
        let read = try #require(StoredDate.fromDatabaseValue(StoredDate(date).databaseValue))
        #expect(abs(read.date.timeIntervalSince1970 - 1_900_000_123.457) < 0.000_5)
    }
}
