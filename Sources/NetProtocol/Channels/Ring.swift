/// A growable FIFO in memory the owner manages, for state that lives behind a connection's
/// pointer (see ``ChannelConnection``): no array uniqueness checks, no optional wrapping, and
/// nothing allocated until the first push. Copies share the storage, so exactly one owner
/// calls ``release()``, once.
struct FlatRing<Element> {
    private(set) var storage: UnsafeMutablePointer<Element>?
    /// A power of two, or 0 before the first push.
    private(set) var capacity = 0
    private var head = 0
    private(set) var count = 0
    /// Capacity of the first allocation.
    private let initialCapacity: Int

    init(initialCapacity: Int) {
        var capacity = 1
        while capacity < initialCapacity { capacity <<= 1 }
        self.initialCapacity = capacity
    }

    var isEmpty: Bool { count == 0 }

    /// Bytes the ring has allocated.
    var allocatedBytes: Int { capacity * MemoryLayout<Element>.stride }

    @inline(__always)
    mutating func push(_ element: Element) {
        if count == capacity { grow() }
        (storage.unsafelyUnwrapped + ((head &+ count) & (capacity &- 1))).initialize(to: element)
        count &+= 1
    }

    private mutating func grow() {
        let grown = max(initialCapacity, capacity * 2)
        let fresh = UnsafeMutablePointer<Element>.allocate(capacity: grown)
        if let storage {
            for index in 0..<count { (fresh + index).moveInitialize(from: storage + ((head + index) & (capacity - 1)), count: 1) }
            storage.deallocate()
        }
        storage = fresh
        capacity = grown
        head = 0
    }

    /// The oldest element, in place (valid until the next push or pop).
    @inline(__always)
    var firstPointer: UnsafeMutablePointer<Element>? { count == 0 ? nil : storage.unsafelyUnwrapped + head }

    var first: Element? { firstPointer?.pointee }

    @discardableResult
    @inline(__always)
    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = (storage.unsafelyUnwrapped + head).move()
        head = (head &+ 1) & (capacity &- 1)
        count &-= 1
        return element
    }

    mutating func removeAll() {
        while count > 0 { popFirst() }
    }

    /// Frees the storage; the ring is empty and unallocated afterwards.
    mutating func release() {
        removeAll()
        storage?.deallocate()
        storage = nil
        capacity = 0
        head = 0
    }
}

extension Array where Element == UInt8 {
    /// Makes this kept buffer hold exactly `bytes`. Spare buffers keep the bytes of the message
    /// they last held, so a message of the same size costs one copy and no change of count
    /// (truncating or growing an array goes through `replaceSubrange`, which costs more than
    /// the copy of a small message).
    @inline(__always)
    mutating func overwrite(with bytes: UnsafeRawBufferPointer) {
        if count > bytes.count {
            removeLast(count - bytes.count)
        } else if count < bytes.count {
            append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[count...]))
        }
        let prefix = Swift.min(count, bytes.count)
        if prefix > 0 {
            withUnsafeMutableBytes { raw in
                UnsafeMutableRawBufferPointer(rebasing: raw[0..<prefix]).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<prefix]))
            }
        }
    }
}
