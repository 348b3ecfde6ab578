import CSodium

/// Where the transport gets unpredictable bytes: session keys, token nonces, challenge keys.
///
/// Production uses ``SystemRandomSource``; tests and simulations inject ``SeededRandomSource``
/// so that every run can be replayed.
public protocol SecureRandomSource {
    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

/// The operating system's CSPRNG, through libsodium's `randombytes_buf`.
public struct SystemRandomSource: SecureRandomSource, Sendable {
    public init() { Sodium.ensureInitialized() }
    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        Sodium.randomBytes(buffer)
    }
}

/// A deterministic generator (xoshiro256**, seeded through SplitMix64) for tests, simulations
/// and soaks. Never use it for keys that protect real traffic.
public struct SeededRandomSource: SecureRandomSource, RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = (state.3 << 45) | (state.3 >> 19)
        return result
    }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var index = 0
        while index < buffer.count {
            var word = next()
            for _ in 0..<8 where index < buffer.count {
                buffer[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
    }

    /// A uniformly distributed value in [0, 1).
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}

/// A fixed byte sequence replayed in order; lets known-answer tests hand the exact nonces and
/// keys a reference run used. Wraps around when exhausted.
public struct ScriptedRandomSource: SecureRandomSource, Sendable {
    private let bytes: [UInt8]
    private var position = 0

    public init(bytes: [UInt8]) {
        precondition(!bytes.isEmpty, "a scripted source needs at least one byte")
        self.bytes = bytes
    }

    public mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        for index in 0..<buffer.count {
            buffer[index] = bytes[position]
            position = (position + 1) % bytes.count
        }
    }
}
