import ControlPlane
import Testing

@Suite struct AddressRangeTests {
    @Test func blocksHoldTheirAddressesOnly() throws {
        let lan = try #require(AddressRange("10.1.2.0/24"))
        #expect(lan.contains("10.1.2.0") && lan.contains("10.1.2.255"))
        #expect(!lan.contains("10.1.3.1") && !lan.contains("11.1.2.1"))
        #expect(lan.contains("::ffff:10.1.2.9"), "an IPv4 peer on a dual-stack socket")
        #expect(!lan.contains("unknown") && !lan.contains(""))
        let one = try #require(AddressRange("127.0.0.1"))
        #expect(one.contains("127.0.0.1") && !one.contains("127.0.0.2"))
        #expect(try #require(AddressRange("127.0.0.1/32")).contains("127.0.0.1"))
        #expect(try #require(AddressRange("0.0.0.0/0")).contains("203.0.113.9"))
        let unaligned = try #require(AddressRange("192.0.2.77/28"))
        #expect(unaligned.contains("192.0.2.64") && unaligned.contains("192.0.2.79") && !unaligned.contains("192.0.2.80"))
    }

    @Test func ipv6Blocks() throws {
        let block = try #require(AddressRange("fd00::/8"))
        #expect(block.contains("fd12:3456::1") && !block.contains("fe80::1"))
        #expect(!block.contains("10.0.0.1"))
        #expect(try #require(AddressRange("::1")).contains("::1"))
        #expect(!(try #require(AddressRange("2001:db8::/33"))).contains("2001:db8:8000::1"))
    }

    @Test func refusesWhatIsNotABlock() {
        for text in ["", "localhost", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "fd00::/129", "10.0.0", "unknown"] {
            #expect(AddressRange(text) == nil, "\(text)")
        }
    }
}
