import ArgumentParser
import Foundation
import NetProtocol

#if canImport(Glibc)
import Glibc
#endif

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Arbiter server on its embedded defaults.",
        discussion: """
            Today this is the transport server (an echo server on the game port). The private token \
            key lives in <data-dir>/transport.key, created with mode 0600 on first start; mint tokens \
            for it with `arbiter token --key-file <data-dir>/transport.key ...`.
            """
    )

    @Option(help: "UDP address of the game port.")
    var udp: String = Defaults.udpAddress

    @Option(name: .customLong("data-dir"), help: "Where keys and data live.")
    var dataDir: String = Defaults.dataDirectory

    @Option(name: .customLong("protocol-id"), help: "Protocol id, decimal or 0x-hex.")
    var protocolID: String = "0x" + String(Defaults.protocolID, radix: 16)

    @Option(name: .customLong("public-address"), help: "An address tokens may name for this server besides --udp (repeatable).")
    var publicAddresses: [String] = []

    @Option(name: .customLong("max-clients"), help: "Most clients connected at once.")
    var maxClients: Int = 1024

    @Option(help: "Stop after this many seconds (default: run until interrupted).")
    var seconds: Double?

    func run() throws {
        let bind = try parseAddress(udp, option: "--udp")
        let id = try parseProtocolID(protocolID)
        let extra = try publicAddresses.map { try parseAddress($0, option: "--public-address") }
        guard (1...1_000_000).contains(maxClients) else { throw ValidationError("--max-clients must be 1...1000000") }
        let keyPath = (dataDir as NSString).appendingPathComponent(Defaults.keyFileName)
        let key = try loadOrCreateKey(at: keyPath)
        lineBufferedOutput()
        print("serve: token key \(keyPath); mint a token with: arbiter token --key-file \(keyPath) --protocol-id 0x\(String(id, radix: 16)) --client-id 1 --server \(bind) --out token.bin")
        let configuration = ServerConfiguration(protocolID: id, privateKey: key, serverAddresses: [bind] + extra, maxClients: maxClients)
        try runEchoServer(name: "serve", configuration: configuration, bind: bind, seconds: seconds)
    }

    /// Reads the key, or creates the directory and a fresh key file readable by the owner only.
    func loadOrCreateKey(at path: String) throws -> SymmetricKey {
        if FileManager.default.fileExists(atPath: path) {
            var info = stat()
            if stat(path, &info) == 0 && info.st_mode & 0o077 != 0 {
                FileHandle.standardError.write(Data("serve: warning: \(path) is readable by others; chmod 600 it\n".utf8))
            }
            return try readKeyFile(path)
        }
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var random = SystemRandomSource()
        let key = SymmetricKey(random: &random)
        let text = Hex.encode(key.bytes) + "\n"
        // O_EXCL: never overwrite a key another process created a moment ago.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST { return try readKeyFile(path) }
            throw ValidationError("cannot create key file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let written = text.utf8CString.withUnsafeBufferPointer { buffer in
            write(descriptor, buffer.baseAddress, buffer.count - 1)
        }
        guard written == text.utf8.count else { throw ValidationError("cannot write key file \(path)") }
        print("serve: created a new token key in \(path) (mode 0600)")
        return key
    }
}
