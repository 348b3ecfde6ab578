import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arenaRules, decodeInputMessage, decodeMatchOver, encodeInputMessage } from '../arbiter.js';
import { fromHex, loadVectors, toHex } from '../test-support/vectors.js';

test('input messages encode to the Swift bytes and decode as the server decodes them', () => {
  const { cases } = loadVectors('input-messages.json');
  assert.ok(cases.filter((vector) => vector.encoded).length >= 5);
  assert.ok(cases.filter((vector) => !vector.valid).length >= 3);
  for (const vector of cases) {
    const decoded = decodeInputMessage(fromHex(vector.bytes), arenaRules);
    if (!vector.valid) {
      assert.equal(decoded, null, vector.bytes);
      continue;
    }
    const fields = {
      ackedSnapshot: vector.ackedSnapshot, viewTick: vector.viewTick, newestSequence: vector.newestSequence, inputs: vector.inputs,
    };
    assert.deepEqual(decoded, fields);
    if (vector.encoded) assert.equal(toHex(encodeInputMessage(fields, arenaRules)), vector.bytes);
  }
});

test('match-over messages decode to the Swift standings, and malformed ones to null', () => {
  const { cases } = loadVectors('match-over.json');
  for (const vector of cases) {
    const lines = decodeMatchOver(fromHex(vector.bytes));
    if (!vector.lines) {
      assert.equal(lines, null);
      continue;
    }
    assert.deepEqual(lines.map((line) => ({ ...line, playerID: String(line.playerID) })), vector.lines);
  }
  assert.ok(cases.some((vector) => vector.lines === undefined));
});
