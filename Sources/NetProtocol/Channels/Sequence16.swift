/// 16-bit sequence numbers that wrap: `a` is newer than `b` when it is ahead by less than half
/// the range. Packet sequences and message ids both use this.
extension UInt16 {
    @inline(__always)
    public func isNewer(than other: UInt16) -> Bool {
        let difference = self &- other
        return difference != 0 && difference < 0x8000
    }

    /// How far `self` is ahead of `base`, in 0..<65536 (wrapping).
    @inline(__always)
    public func distance(from base: UInt16) -> Int { Int(self &- base) }
}

/// A fixed ring indexed by `sequence % capacity` that remembers which sequence each slot
/// holds, so an entry from a lap ago is never mistaken for the current one. Flat memory the
/// owner manages (two allocations, made on the first insert unless ``allocate()`` is called
/// first); elements are read and changed in place through ``pointer(_:)``. Copies share the
/// storage, so exactly one owner calls ``release()``, once.
struct SequenceBuffer<Element> {
    private(set) var tags: UnsafeMutablePointer<UInt32>?
    private(set) var elements: UnsafeMutablePointer<Element>?
    let capacity: Int
    private let mask: Int
    private let blank: Element
    private static var empty: UInt32 { UInt32.max }

    /// `capacity` must be a power of two dividing 65536 so the ring stays continuous across
    /// the wrap.
    init(capacity: Int, blank: Element) {
        precondition(capacity > 0 && capacity <= 65536 && capacity & (capacity - 1) == 0, "sequence buffer capacity must divide 65536")
        self.capacity = capacity
        self.mask = capacity - 1
        self.blank = blank
    }

    var isAllocated: Bool { tags != nil }

    /// Bytes the buffer takes once allocated.
    static func bytes(capacity: Int) -> Int { capacity * (MemoryLayout<UInt32>.stride + MemoryLayout<Element>.stride) }

    mutating func allocate() {
        guard tags == nil else { return }
        let tags = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        tags.initialize(repeating: Self.empty, count: capacity)
        let elements = UnsafeMutablePointer<Element>.allocate(capacity: capacity)
        elements.initialize(repeating: blank, count: capacity)
        self.tags = tags
        self.elements = elements
    }

    @inline(__always)
    func contains(_ sequence: UInt16) -> Bool {
        guard let tags else { return false }
        return tags[Int(sequence) & mask] == UInt32(sequence)
    }

    /// The element for `sequence` in place, if present: valid until the slot is next written.
    @inline(__always)
    func pointer(_ sequence: UInt16) -> UnsafeMutablePointer<Element>? {
        guard let tags else { return nil }
        let index = Int(sequence) & mask
        return tags[index] == UInt32(sequence) ? elements.unsafelyUnwrapped + index : nil
    }

    subscript(sequence: UInt16) -> Element? { pointer(sequence)?.pointee }

    /// Stores `element` for `sequence`, replacing whatever held the slot; returns it in place.
    @inline(__always)
    @discardableResult
    mutating func insert(_ sequence: UInt16, _ element: Element) -> UnsafeMutablePointer<Element> {
        if tags == nil { allocate() }
        let index = Int(sequence) & mask
        tags.unsafelyUnwrapped[index] = UInt32(sequence)
        let slot = elements.unsafelyUnwrapped + index
        slot.pointee = element
        return slot
    }

    @inline(__always)
    func remove(_ sequence: UInt16) {
        guard let tags else { return }
        let index = Int(sequence) & mask
        guard tags[index] == UInt32(sequence) else { return }
        tags[index] = Self.empty
        elements.unsafelyUnwrapped[index] = blank
    }

    /// Frees the storage; the buffer is empty and unallocated afterwards.
    mutating func release() {
        if let elements {
            elements.deinitialize(count: capacity)
            elements.deallocate()
        }
        tags?.deallocate()
        tags = nil
        elements = nil
    }
}

/// Which of the last `capacity` 16-bit sequences were seen: a ``SequenceBuffer`` with no
/// elements, one `UInt32` a slot.
struct SequenceSet {
    let tags: UnsafeMutablePointer<UInt32>
    let capacity: Int
    private let mask: Int

    init(capacity: Int) {
        precondition(capacity > 0 && capacity <= 65536 && capacity & (capacity - 1) == 0, "sequence set capacity must divide 65536")
        self.capacity = capacity
        mask = capacity - 1
        tags = .allocate(capacity: capacity)
        tags.initialize(repeating: UInt32.max, count: capacity)
    }

    static func bytes(capacity: Int) -> Int { capacity * MemoryLayout<UInt32>.stride }

    @inline(__always)
    func contains(_ sequence: UInt16) -> Bool { tags[Int(sequence) & mask] == UInt32(sequence) }

    @inline(__always)
    func insert(_ sequence: UInt16) { tags[Int(sequence) & mask] = UInt32(sequence) }

    @inline(__always)
    func remove(_ sequence: UInt16) {
        let index = Int(sequence) & mask
        if tags[index] == UInt32(sequence) { tags[index] = UInt32.max }
    }

    func release() { tags.deallocate() }
}
