/// Addresses each account has logged in (or registered) from: they are exempt from the
/// account-wide failure budget (see ``Accounts/login(_:clientAddress:)``). Forgetting one is
/// safe (the exemption lapses until the next successful login); several control ports would
/// share one list, so that an address known to one is known to all.
protocol KnownLoginAddresses: Sendable {
    func contains(_ account: String, _ address: String) async -> Bool
    func insert(_ account: String, _ address: String) async
}
