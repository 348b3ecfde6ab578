// The channel packet format (docs/PROTOCOL.md, "Channel packet"), both ways. Little-endian.
//
//   header:  flags u8 | sequence u16 | [ack: difference u8 or u16] | [ack-bit bytes named in flags]
//   entries: control u8 (channel bits 0-5, fragment bit 6) | [id u16] | [fragment index u16,
//            fragment count u16] | length varint | payload

export const MAX_HEADER_BYTES = 9;
/** Control, id, fragment index and count, a three-byte length. */
export const MAX_ENTRY_HEADER_BYTES = 10;

const FLAG_HAS_ACK = 0x01;
const FLAG_ACK_IS_DIFFERENCE = 0x02;
const FLAG_ACK_BITS_SHIFT = 2;
const FLAG_RESERVED = 0xc0;
const ENTRY_FRAGMENT = 0x40;
const ENTRY_RESERVED = 0x80;
const ENTRY_CHANNEL_MASK = 0x3f;

/** Writes bytes into a fixed buffer; callers check room first. */
export class ByteWriter {
  constructor(capacity) {
    this.buffer = new Uint8Array(capacity);
    this.offset = 0;
  }
  u8(value) { this.buffer[this.offset++] = value & 0xff; }
  u16(value) {
    this.buffer[this.offset++] = value & 0xff;
    this.buffer[this.offset++] = (value >> 8) & 0xff;
  }
  bytes(source) {
    this.buffer.set(source, this.offset);
    this.offset += source.length;
  }
  finish() { return this.buffer.slice(0, this.offset); }
}

/** Reads bytes; every read past the end returns null. */
export class ByteReader {
  constructor(bytes, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
  }
  get remaining() { return this.bytes.length - this.offset; }
  u8() { return this.remaining >= 1 ? this.bytes[this.offset++] : null; }
  u16() {
    if (this.remaining < 2) return null;
    const value = this.bytes[this.offset] | (this.bytes[this.offset + 1] << 8);
    this.offset += 2;
    return value;
  }
  take(count) {
    if (this.remaining < count) return null;
    const slice = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }
}

/**
 * Writes a header `{ sequence, ack }`, where `ack` is null (nothing received yet) or
 * `{ newest, bits }`: the newest packet received and, in bit i of `bits`, whether packet
 * `newest - 1 - i` was received.
 */
export function writeHeader(header, writer) {
  let flags = 0;
  let difference = 0;
  const { ack } = header;
  if (ack) {
    flags |= FLAG_HAS_ACK;
    difference = (header.sequence - ack.newest) & 0xffff;
    if (difference <= 0xff) flags |= FLAG_ACK_IS_DIFFERENCE;
    for (let index = 0; index < 4; index++) {
      if (((ack.bits >>> (8 * index)) & 0xff) !== 0xff) flags |= 1 << (FLAG_ACK_BITS_SHIFT + index);
    }
  }
  writer.u8(flags);
  writer.u16(header.sequence);
  if (!ack) return;
  if (flags & FLAG_ACK_IS_DIFFERENCE) writer.u8(difference);
  else writer.u16(ack.newest);
  for (let index = 0; index < 4; index++) {
    if (flags & (1 << (FLAG_ACK_BITS_SHIFT + index))) writer.u8((ack.bits >>> (8 * index)) & 0xff);
  }
}

/** The header, or null when malformed. */
export function readHeader(reader) {
  const flags = reader.u8();
  if (flags === null || flags & FLAG_RESERVED) return null;
  const sequence = reader.u16();
  if (sequence === null) return null;
  if (!(flags & FLAG_HAS_ACK)) return flags === 0 ? { sequence, ack: null } : null;
  let newest;
  if (flags & FLAG_ACK_IS_DIFFERENCE) {
    const difference = reader.u8();
    if (difference === null) return null;
    newest = (sequence - difference) & 0xffff;
  } else {
    newest = reader.u16();
    if (newest === null) return null;
  }
  let bits = 0;
  for (let index = 0; index < 4; index++) {
    let byte = 0xff;
    if (flags & (1 << (FLAG_ACK_BITS_SHIFT + index))) {
      byte = reader.u8();
      if (byte === null) return null;
    }
    bits |= byte << (8 * index);
  }
  return { sequence, ack: { newest, bits: bits >>> 0 } };
}

/** Bytes a header takes. */
export function headerBytes(header) {
  const { ack } = header;
  if (!ack) return 3;
  let bytes = 3 + (((header.sequence - ack.newest) & 0xffff) <= 0xff ? 1 : 2);
  for (let index = 0; index < 4; index++) if (((ack.bits >>> (8 * index)) & 0xff) !== 0xff) bytes += 1;
  return bytes;
}

/** Bytes the varint of `value` (below 2^21) takes. */
export function varintBytes(value) { return value < 0x80 ? 1 : value < 0x4000 ? 2 : 3; }

export function writeVarint(value, writer) {
  let remaining = value;
  do {
    let byte = remaining & 0x7f;
    remaining >>>= 7;
    if (remaining !== 0) byte |= 0x80;
    writer.u8(byte);
  } while (remaining !== 0);
}

/** At most three bytes and canonical (no trailing zero group); null otherwise. */
export function readVarint(reader) {
  let value = 0;
  for (let index = 0; index < 3; index++) {
    const byte = reader.u8();
    if (byte === null) return null;
    value |= (byte & 0x7f) << (7 * index);
    if (!(byte & 0x80)) {
      if (index > 0 && byte === 0) return null;
      return value;
    }
  }
  return null;
}

export function entryHeaderBytes(hasID, isFragment, length) {
  return 1 + (hasID ? 2 : 0) + (isFragment ? 4 : 0) + varintBytes(length);
}

/**
 * Writes one entry: `id` is null on unreliable-unordered channels, `fragment` null or
 * `{ index, count }`.
 */
export function writeEntry(channel, id, fragment, payload, writer) {
  writer.u8(channel | (fragment ? ENTRY_FRAGMENT : 0));
  if (id !== null && id !== undefined) writer.u16(id);
  if (fragment) {
    writer.u16(fragment.index);
    writer.u16(fragment.count);
  }
  writeVarint(payload.length, writer);
  writer.bytes(payload);
}

/**
 * Reads an entry of a connection with `channelCount` channels, where `hasID(channel)` says
 * whether that channel's entries carry an id. Null when malformed.
 */
export function readEntry(reader, channelCount, hasID) {
  const control = reader.u8();
  if (control === null || control & ENTRY_RESERVED) return null;
  const channel = control & ENTRY_CHANNEL_MASK;
  if (channel >= channelCount) return null;
  let id = 0;
  if (hasID(channel)) {
    id = reader.u16();
    if (id === null) return null;
  }
  let fragment = null;
  if (control & ENTRY_FRAGMENT) {
    const index = reader.u16();
    const count = reader.u16();
    if (index === null || count === null) return null;
    fragment = { index, count };
  }
  const length = readVarint(reader);
  if (length === null) return null;
  const payload = reader.take(length);
  if (payload === null) return null;
  return { channel, id, fragment, payload };
}

/**
 * A whole packet from its fields, with no connection behind it (tests, tools):
 * `entries` is a list of `{ channel, id, fragment, payload }`.
 */
export function encodePacket({ sequence, ack = null, entries = [] }, capacity = 1200) {
  const writer = new ByteWriter(capacity);
  writeHeader({ sequence, ack }, writer);
  for (const entry of entries) {
    const hasID = entry.id !== null && entry.id !== undefined;
    const needed = entryHeaderBytes(hasID, !!entry.fragment, entry.payload.length) + entry.payload.length;
    if (writer.offset + needed > capacity) break;
    writeEntry(entry.channel, hasID ? entry.id : null, entry.fragment ?? null, entry.payload, writer);
  }
  return writer.finish();
}

/**
 * A whole packet's fields, given which channels carry ids; null when malformed.
 * `hasID` is a function of the channel index.
 */
export function decodePacket(bytes, channelCount, hasID) {
  const reader = new ByteReader(bytes);
  const header = readHeader(reader);
  if (!header) return null;
  const entries = [];
  while (reader.remaining > 0) {
    const entry = readEntry(reader, channelCount, hasID);
    if (!entry) return null;
    entries.push(entry);
  }
  return { ...header, entries };
}
