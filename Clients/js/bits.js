// Bit packing, least significant bit first (docs/PROTOCOL.md, "Match messages"): bit i of a
// byte is (byte >> i) & 1, a multi-bit field is written low bits first, and the last byte is
// padded with zero bits. The same layout as GameCore's BitWriter and BitReader.

/** Writes fields of 0...32 bits into a growing byte array. */
export class BitWriter {
  constructor() {
    this.bytes = [];
    this.partial = 0;
    this.partialBits = 0;
  }

  /** Writes `value` (an integer in 0 ..< 2^bits) in `bits` bits. */
  write(value, bits) {
    if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new RangeError(`bit width ${bits} is not 0...32`);
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) throw new RangeError(`${value} does not fit in ${bits} bits`);
    let remaining = value;
    let left = bits;
    while (left > 0) {
      const take = Math.min(8 - this.partialBits, left);
      // Division rather than shifts: a 32-bit value does not survive JavaScript's signed shifts.
      const part = remaining % (1 << take);
      remaining = Math.floor(remaining / (1 << take));
      this.partial |= part << this.partialBits;
      this.partialBits += take;
      left -= take;
      if (this.partialBits === 8) {
        this.bytes.push(this.partial);
        this.partial = 0;
        this.partialBits = 0;
      }
    }
  }

  writeBool(flag) { this.write(flag ? 1 : 0, 1); }

  /** Writes a signed value in `bits` bits, two's complement; the caller ensures it fits. */
  writeSigned(value, bits) {
    const range = 2 ** bits;
    this.write(((value % range) + range) % range, bits);
  }

  get bitCount() { return this.bytes.length * 8 + this.partialBits; }

  /** Every byte written, the last one padded with zero bits. */
  finish() {
    const out = new Uint8Array(this.bytes.length + (this.partialBits > 0 ? 1 : 0));
    out.set(this.bytes);
    if (this.partialBits > 0) out[this.bytes.length] = this.partial;
    return out;
  }
}

/**
 * Reads what BitWriter wrote. Reading past the end returns null and the reader stays failed, so
 * hostile input never reads out of bounds.
 */
export class BitReader {
  constructor(bytes) {
    this.bytes = bytes;
    this.position = 0;
    this.failed = false;
  }

  get remainingBits() { return this.bytes.length * 8 - this.position; }

  read(bits) {
    if (this.failed || !Number.isInteger(bits) || bits < 0 || bits > 32 || this.remainingBits < bits) {
      this.failed = true;
      return null;
    }
    let value = 0;
    let written = 0;
    while (written < bits) {
      const byte = this.bytes[this.position >> 3];
      const offset = this.position & 7;
      const take = Math.min(8 - offset, bits - written);
      value += ((byte >> offset) & ((1 << take) - 1)) * 2 ** written;
      written += take;
      this.position += take;
    }
    return value;
  }

  readBool() {
    const bit = this.read(1);
    return bit === null ? null : bit === 1;
  }

  readSigned(bits) {
    const raw = this.read(bits);
    if (raw === null) return null;
    return bits > 0 && raw >= 2 ** (bits - 1) ? raw - 2 ** bits : raw;
  }
}
