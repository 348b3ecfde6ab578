@testable import ControlPlane
import Foundation
import Testing

/// The hand-written answers are byte for byte what the control port's `JSONEncoder` writes.
@Suite struct JSONObjectWriterTests {
    static let awkward = [
        "plain", "", "quote \" and backslash \\ and slash /", "tab\tnew\nline\rreturn", "\u{0}\u{1}\u{8}\u{b}\u{c}\u{1f}\u{7f}",
        "Zoë 🎮 日本語", "\u{2028}\u{2029}", "</script>",
    ]

    func profile(_ name: String, email: String?, seconds: Double) -> Accounts.PrivateProfile {
        Accounts.PrivateProfile(
            id: Int64(name.utf8.count) * 7919 - 3, username: "user_" + String(name.utf8.count), displayName: name, email: email,
            hasPassword: email != nil, createdAt: Date(timeIntervalSince1970: seconds), operator: name.isEmpty)
    }

    @Test func aSessionAnswerIsWhatTheEncoderWrites() throws {
        var random = SystemRandomNumberGenerator()
        var checked = 0
        for name in Self.awkward {
            for email in [nil, name + "@example.com"] {
                for _ in 0..<20 {
                    let seconds = Double.random(in: 0..<4_200_000_000, using: &random)
                    let withRefresh = Bool.random(using: &random)
                    let answer = Accounts.SessionResponse(
                        token: "tok_" + name, expiresAt: Date(timeIntervalSince1970: seconds + 0.999_9),
                        refreshToken: withRefresh ? "ref\"\(name)" : nil, refreshExpiresAt: withRefresh ? Date(timeIntervalSince1970: seconds * 1.5) : nil,
                        player: profile(name, email: email, seconds: seconds.rounded(.down) + 0.5))
                    let expected = Array(try ArbiterRequestContext.encoder.encode(answer))
                    let written = answer.json.finished()
                    #expect(written == expected, "\(String(decoding: written, as: UTF8.self)) vs \(String(decoding: expected, as: UTF8.self))")
                    checked += 1
                }
            }
        }
        #expect(checked == Self.awkward.count * 40)
    }
}
