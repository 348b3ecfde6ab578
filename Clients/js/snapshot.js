// Snapshots (docs/PROTOCOL.md, "Snapshot"): a header, then each entity of the baseline snapshot
// the client acknowledged (kept, changed by the game's delta, or removed), then new entities in
// full. Decoding is GameCore's SnapshotCodec.decode; the entity codec is the game's (arena.js).

import { BitReader } from './bits.js';

export const SNAPSHOT_KIND = 2;

export class SnapshotDecodeError extends Error {
  /** `reason` is 'malformed', or 'missing_baseline' with `baselineTick`. */
  constructor(reason, baselineTick = 0) {
    super(reason === 'missing_baseline' ? `baseline snapshot ${baselineTick} is not held` : 'malformed snapshot');
    this.name = 'SnapshotDecodeError';
    this.reason = reason;
    this.baselineTick = baselineTick;
  }
}

function readHeaderFrom(reader) {
  const kind = reader.read(8);
  const tick = reader.read(32);
  const age = reader.read(8);
  const lastAppliedInput = reader.read(32);
  const yourEntity = reader.read(16);
  if (reader.failed || kind !== SNAPSHOT_KIND || age > tick) return null;
  return { tick, baselineTick: age === 0 ? 0 : tick - age, lastAppliedInput, yourEntity };
}

/** The header alone `{ tick, baselineTick, lastAppliedInput, yourEntity }`, or null. */
export function readSnapshotHeader(bytes) { return readHeaderFrom(new BitReader(bytes)); }

/**
 * Decodes a snapshot. `baseline(tick)` returns the entities of an earlier snapshot (sorted by id)
 * or null when it is not held. Returns `{ header, entities }` (entities sorted by id); throws
 * SnapshotDecodeError.
 */
export function decodeSnapshot(bytes, baseline, rules) {
  const reader = new BitReader(bytes);
  const header = readHeaderFrom(reader);
  if (!header) throw new SnapshotDecodeError('malformed');
  const entities = [];
  if (header.baselineTick !== 0) {
    const base = baseline(header.baselineTick);
    if (!base) throw new SnapshotDecodeError('missing_baseline', header.baselineTick);
    for (const old of base) {
      const changed = reader.readBool();
      if (changed === null) throw new SnapshotDecodeError('malformed');
      if (!changed) {
        entities.push(old);
        continue;
      }
      const gone = reader.readBool();
      if (gone === null) throw new SnapshotDecodeError('malformed');
      if (gone) continue;
      const entity = rules.readDeltaEntity(old, reader);
      if (!entity) throw new SnapshotDecodeError('malformed');
      entities.push(entity);
    }
  }
  const freshCount = reader.read(16);
  if (freshCount === null) throw new SnapshotDecodeError('malformed');
  const seen = new Set(entities.map((entity) => entity.id));
  for (let index = 0; index < freshCount; index++) {
    const id = reader.read(16);
    const kind = reader.read(2);
    if (id === null || kind === null) throw new SnapshotDecodeError('malformed');
    const entity = rules.readFullEntity(id, kind, reader);
    if (!entity || seen.has(entity.id)) throw new SnapshotDecodeError('malformed');
    seen.add(entity.id);
    entities.push(entity);
  }
  if (reader.failed || reader.remainingBits >= 8) throw new SnapshotDecodeError('malformed');
  entities.sort((a, b) => a.id - b.id);
  return { header, entities };
}

// The last message of a match (docs/PROTOCOL.md, "Match over"): byte-aligned, little-endian.

export const MATCH_OVER_KIND = 4;
const MAX_NAME_BYTES = 32;

/**
 * The final standings, best first: `[{ playerID, displayName, score, kills, deaths }]`, or null
 * when `bytes` is not a well-formed match-over message. `playerID` is a Number when it is a safe
 * integer (every id a control port hands out), a BigInt otherwise.
 */
export function decodeMatchOver(bytes) {
  if (bytes.length < 2 || bytes[0] !== MATCH_OVER_KIND) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8');
  let offset = 2;
  const lines = [];
  for (let line = 0; line < bytes[1]; line++) {
    if (offset + 17 > bytes.length) return null;
    const rawID = view.getBigUint64(offset, true);
    const score = view.getInt32(offset + 8, true);
    const kills = view.getUint16(offset + 12, true);
    const deaths = view.getUint16(offset + 14, true);
    const length = bytes[offset + 16];
    offset += 17;
    if (length > MAX_NAME_BYTES || offset + length > bytes.length) return null;
    const displayName = decoder.decode(bytes.subarray(offset, offset + length));
    offset += length;
    const playerID = rawID <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(rawID) : rawID;
    lines.push({ playerID, displayName, score, kills, deaths });
  }
  return offset === bytes.length ? lines : null;
}
