import ArgumentParser

@main
struct Arbiter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arbiter",
        abstract: "Arbiter: an authoritative real-time game backend (netcode.io 1.02 transport).",
        subcommands: [Serve.self, Echo.self, Token.self, Connect.self, Play.self, Soak.self],
        defaultSubcommand: nil
    )
}
