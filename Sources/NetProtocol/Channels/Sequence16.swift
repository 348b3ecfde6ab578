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

/// A ring indexed by `sequence % capacity` that remembers which sequence each slot holds, so
/// an entry from a lap ago is never mistaken for the current one. Flat memory the owner
/// manages (two allocations, made on the first insert unless ``allocate()`` is called first);
/// elements are read and changed in place through ``pointer(_:)``. It starts small and grows,
/// up to `maxCapacity`, when the sequences in use span more than it holds
/// (``reserve(span:)``), so a window sized for bursts costs little while traffic is light.
/// Copies share the storage, so exactly one owner calls ``release()``, once.
struct SequenceBuffer<Element> {
    private(set) var tags: UnsafeMutablePointer<UInt32>?
    private(set) var elements: UnsafeMutablePointer<Element>?
    let maxCapacity: Int
    private(set) var capacity: Int
    private var mask: Int
    private let blank: Element
    private static var empty: UInt32 { UInt32.max }

    /// Capacities must be powers of two dividing 65536 so the ring stays continuous across
    /// the wrap.
    init(capacity maxCapacity: Int, initialCapacity: Int? = nil, blank: Element) {
        precondition(maxCapacity > 0 && maxCapacity <= 65536 && maxCapacity & (maxCapacity - 1) == 0, "sequence buffer capacity must divide 65536")
        self.maxCapacity = maxCapacity
        var capacity = 1
        while capacity < min(maxCapacity, initialCapacity ?? maxCapacity) { capacity <<= 1 }
        self.capacity = capacity
        mask = capacity - 1
        self.blank = blank
    }

    var isAllocated: Bool { tags != nil }

    /// Bytes the buffer takes at `capacity`.
    static func bytes(capacity: Int) -> Int { capacity * (MemoryLayout<UInt32>.stride + MemoryLayout<Element>.stride) }

    /// Bytes the buffer has allocated.
    var allocatedBytes: Int { tags == nil ? 0 : Self.bytes(capacity: capacity) }

    mutating func allocate() {
        guard tags == nil else { return }
        let tags = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        tags.initialize(repeating: Self.empty, count: capacity)
        let elements = UnsafeMutablePointer<Element>.allocate(capacity: capacity)
        elements.initialize(repeating: blank, count: capacity)
        self.tags = tags
        self.elements = elements
    }

    /// Makes room for `span` consecutive sequences (at most `maxCapacity`): every live entry
    /// must lie within the span, so that none share a slot after the move.
    @inline(__always)
    mutating func reserve(span: Int) {
        if span > capacity && capacity < maxCapacity { grow(to: span) }
    }

    private mutating func grow(to span: Int) {
        var grown = capacity
        while grown < min(span, maxCapacity) { grown <<= 1 }
        guard let oldTags = tags, let oldElements = elements else {
            capacity = grown
            mask = grown - 1
            return
        }
        let newTags = UnsafeMutablePointer<UInt32>.allocate(capacity: grown)
        newTags.initialize(repeating: Self.empty, count: grown)
        let newElements = UnsafeMutablePointer<Element>.allocate(capacity: grown)
        newElements.initialize(repeating: blank, count: grown)
        for index in 0..<capacity where oldTags[index] != Self.empty {
            let slot = Int(oldTags[index]) & (grown - 1)
            newTags[slot] = oldTags[index]
            newElements[slot] = oldElements[index]
        }
        oldElements.deinitialize(count: capacity)
        oldElements.deallocate()
        oldTags.deallocate()
        tags = newTags
        elements = newElements
        capacity = grown
        mask = grown - 1
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
