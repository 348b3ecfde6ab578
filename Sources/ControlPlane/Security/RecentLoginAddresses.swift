/// ``KnownLoginAddresses`` in this process's memory. Bounded: a few addresses per account
/// (newest kept) and a fixed number of accounts (the map is cleared when full; the exemption
/// then lapses until the next successful login, which is safe).
actor RecentLoginAddresses: KnownLoginAddresses {
    private var addresses: [String: [String]] = [:]
    private let perAccount: Int
    private let maxAccounts: Int

    init(perAccount: Int = 8, maxAccounts: Int = 100_000) {
        self.perAccount = perAccount
        self.maxAccounts = maxAccounts
    }

    func contains(_ account: String, _ address: String) -> Bool { addresses[account]?.contains(address) == true }

    func insert(_ account: String, _ address: String) {
        if addresses[account] == nil, addresses.count >= maxAccounts { addresses.removeAll(keepingCapacity: true) }
        var list = addresses[account, default: []]
        list.removeAll { $0 == address }
        list.append(address)
        if list.count > perAccount { list.removeFirst(list.count - perAccount) }
        addresses[account] = list
    }
}
