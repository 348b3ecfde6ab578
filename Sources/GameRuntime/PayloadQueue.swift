import NetProtocol

/// A small ring of preallocated payload slots. Endpoints hand payloads to their sink only for
/// the length of a call; the drivers copy them here and hand them to the application after the
/// endpoint call returns, so the application may send from inside its handler.
final class PayloadQueue {
    struct Entry {
        var clientIndex: Int
        var length: Int
    }

    private let storage: UnsafeMutableRawBufferPointer
    private var entries: [Entry]
    private var head = 0
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        storage = .allocate(byteCount: capacity * Netcode.maxPayloadBytes, alignment: 16)
        entries = [Entry](repeating: Entry(clientIndex: 0, length: 0), count: capacity)
    }

    deinit { storage.deallocate() }

    var isFull: Bool { count == capacity }

    /// Copies a payload in; returns false when full.
    @discardableResult
    func push(clientIndex: Int, bytes: UnsafeRawBufferPointer) -> Bool {
        guard count < capacity, bytes.count <= Netcode.maxPayloadBytes else { return false }
        let slot = (head + count) % capacity
        let offset = slot * Netcode.maxPayloadBytes
        UnsafeMutableRawBufferPointer(rebasing: storage[offset..<offset + bytes.count]).copyMemory(from: bytes)
        entries[slot] = Entry(clientIndex: clientIndex, length: bytes.count)
        count += 1
        return true
    }

    /// Hands each queued payload to `body` in arrival order and empties the queue.
    func drain(_ body: (Int, UnsafeRawBufferPointer) -> Void) {
        while count > 0 {
            let entry = entries[head]
            let offset = head * Netcode.maxPayloadBytes
            head = (head + 1) % capacity
            count -= 1
            body(entry.clientIndex, UnsafeRawBufferPointer(rebasing: storage[offset..<offset + entry.length]))
        }
    }
}
