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
/// holds, so an entry from a lap ago is never mistaken for the current one.
struct SequenceBuffer<Element> {
    private var sequences: [UInt32]
    private var elements: [Element]
    private let blank: Element
    let capacity: Int
    private static var empty: UInt32 { UInt32.max }

    /// `capacity` must divide 65536 so the ring stays continuous across the wrap.
    init(capacity: Int, blank: Element) {
        precondition(capacity > 0 && 65536 % capacity == 0, "sequence buffer capacity must divide 65536")
        self.capacity = capacity
        self.blank = blank
        sequences = [UInt32](repeating: Self.empty, count: capacity)
        elements = [Element](repeating: blank, count: capacity)
    }

    @inline(__always) private func slot(_ sequence: UInt16) -> Int { Int(sequence) % capacity }

    func contains(_ sequence: UInt16) -> Bool { sequences[slot(sequence)] == UInt32(sequence) }

    subscript(sequence: UInt16) -> Element? {
        let index = slot(sequence)
        return sequences[index] == UInt32(sequence) ? elements[index] : nil
    }

    /// Stores `element` for `sequence`, replacing whatever held the slot.
    mutating func insert(_ sequence: UInt16, _ element: Element) {
        let index = slot(sequence)
        sequences[index] = UInt32(sequence)
        elements[index] = element
    }

    /// Mutates the element for `sequence` in place, if present.
    @discardableResult
    mutating func modify<R>(_ sequence: UInt16, _ body: (inout Element) -> R) -> R? {
        let index = slot(sequence)
        guard sequences[index] == UInt32(sequence) else { return nil }
        return body(&elements[index])
    }

    mutating func remove(_ sequence: UInt16) {
        let index = slot(sequence)
        guard sequences[index] == UInt32(sequence) else { return }
        sequences[index] = Self.empty
        elements[index] = blank
    }

    mutating func removeAll() {
        for index in 0..<capacity {
            sequences[index] = Self.empty
            elements[index] = blank
        }
    }
}
