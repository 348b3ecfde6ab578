import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SnapshotDecodeError, arenaRules, decodeSnapshot, readSnapshotHeader } from '../arbiter.js';
import { fromHex, loadVectors } from '../test-support/vectors.js';

test('snapshots and their deltas decode to the entities the Swift client holds', () => {
  const { cases } = loadVectors('snapshots.json');
  const held = new Map();
  let deltas = 0;
  let budgeted = 0;
  for (const vector of cases) {
    const bytes = fromHex(vector.bytes);
    if (vector.error) {
      assert.throws(() => decodeSnapshot(bytes, (tick) => held.get(tick) ?? null, arenaRules),
        (error) => error instanceof SnapshotDecodeError && error.reason === vector.error, vector.name);
      continue;
    }
    const header = readSnapshotHeader(bytes);
    assert.deepEqual(header, {
      tick: vector.tick, baselineTick: vector.baselineTick, lastAppliedInput: vector.lastAppliedInput, yourEntity: vector.yourEntity,
    }, vector.name);
    const { entities } = decodeSnapshot(bytes, (tick) => held.get(tick) ?? null, arenaRules);
    assert.deepEqual(entities, vector.entities, vector.name);
    held.set(vector.tick, entities);
    if (vector.baselineTick !== 0) deltas += 1;
    if (vector.name.includes('within')) budgeted += 1;
  }
  assert.ok(deltas >= 20 && budgeted >= 5);
});
