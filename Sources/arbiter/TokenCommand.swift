import ArgumentParser
import Foundation
import GameRuntime
import NetProtocol

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a 2048-byte netcode.io 1.02 connect token."
    )

    @Option(name: .customLong("key-hex"), help: "The 32-byte private token key as 64 hex digits.")
    var keyHex: String?

    @Option(name: .customLong("key-file"), help: "Read the key from a file of 64 hex digits instead (e.g. ./data/transport.key).")
    var keyFile: String?

    @Option(name: .customLong("protocol-id"), help: "Protocol id, decimal or 0x-hex.")
    var protocolID: String

    @Option(name: .customLong("client-id"), help: "The client's unique 64-bit id.")
    var clientID: UInt64

    @Option(help: "Server addresses in the order the client tries them: HOST:PORT[,HOST:PORT...] (1 to 32).")
    var server: String

    @Option(help: "Where to write the token.")
    var out: String

    @Option(name: .customLong("expire-seconds"), help: "Seconds until the token expires (negative: never).")
    var expireSeconds: Int64 = 30

    @Option(name: .customLong("timeout-seconds"), help: "Seconds of silence before either side gives up (negative: never; avoid 0).")
    var timeoutSeconds: Int32 = 5

    @Option(name: .customLong("user-data-hex"), help: "Up to 256 bytes of user data as hex, zero-padded.")
    var userDataHex: String = ""

    func run() throws {
        let key: SymmetricKey
        switch (keyHex, keyFile) {
        case (let hex?, nil): key = try parseKey(hex: hex)
        case (nil, let path?): key = try readKeyFile(path)
        default: throw ValidationError("give exactly one of --key-hex or --key-file")
        }
        let id = try parseProtocolID(protocolID)
        let addresses = try server.split(separator: ",").map { try parseAddress(String($0), option: "--server") }
        guard (1...Netcode.maxServersPerConnect).contains(addresses.count) else {
            throw ValidationError("--server takes 1 to 32 addresses")
        }
        guard let userData = Hex.decode(userDataHex), userData.count <= Netcode.userDataBytes else {
            throw ValidationError("--user-data-hex must be at most 512 hex digits (256 bytes)")
        }
        var random = SystemRandomSource()
        let token = try ConnectToken.generate(
            publicAddresses: addresses, expireSeconds: expireSeconds, timeoutSeconds: timeoutSeconds, clientID: clientID,
            protocolID: id, privateKey: key, userData: userData, nowUnix: SystemClock().unixSeconds(), random: &random)
        let bytes = token.encoded()
        guard FileManager.default.createFile(atPath: out, contents: Data(bytes)) else {
            throw ValidationError("cannot write \(out)")
        }
        print("token: wrote \(bytes.count) bytes to \(out) client_id=\(clientID) servers=\(addresses.map(\.description).joined(separator: ",")) expires=\(token.expireTimestamp)")
    }
}
