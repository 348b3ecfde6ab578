@testable import ControlPlane
import Foundation
import Testing

@Suite struct SessionTokenTests {
    @Test func tokensAre256RandomBitsInUnpaddedBase64URL() throws {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var seen = Set<String>()
        for _ in 0..<200 {
            let (token, hash) = SessionToken.generate()
            #expect(token.count == 43)
            #expect(token.allSatisfy { allowed.contains($0) }, "\(token)")
            #expect(hash == SessionToken.hash(token) && hash.count == 32)
            // Standard base64 of the same bytes, back from base64url: 32 bytes.
            let standard = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "="
            #expect(Data(base64Encoded: standard)?.count == 32)
            seen.insert(token)
        }
        #expect(seen.count == 200)
    }
}
