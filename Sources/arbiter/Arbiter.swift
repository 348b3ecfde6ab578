import ArgumentParser
import Foundation

@main
struct Arbiter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arbiter",
        abstract: "Arbiter: an authoritative real-time game backend (netcode.io 1.02 transport).",
        subcommands: [Serve.self, Echo.self, Token.self, Connect.self, Play.self, Soak.self, BenchResults.self],
        defaultSubcommand: nil
    )

    /// ArgumentParser's own `main`, except that a `ValidationError` thrown by a subcommand's
    /// `run()` (a bad value found only when used, like a key file) is shown with that
    /// subcommand's usage rather than the root's.
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            var running = command
            if var asyncCommand = running as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try running.run()
            }
        } catch let error as ValidationError {
            let subcommand = type(of: command)
            let name = subcommand == Arbiter.self ? "arbiter" : "arbiter \(subcommand._commandName)"
            let usage = usageString(for: subcommand).replacingOccurrences(of: "\n", with: "\n       ")
            FileHandle.standardError.write(Data("Error: \(error.message)\nUsage: \(usage)\n  See '\(name) --help' for more information.\n".utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        } catch {
            exit(withError: error)
        }
    }
}
