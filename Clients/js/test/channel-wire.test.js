import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelConnection, decodePacket, encodePacket, matchConnectionConfiguration } from '../arbiter.js';
import { fromHex, loadVectors, toHex } from '../test-support/vectors.js';

const { meta, cases } = loadVectors('channel-wire.json');
const hasID = (channel) => meta.channelsWithIDs.includes(channel);

test('channel packets encode to the Swift bytes and decode to their fields', () => {
  const packets = cases.filter((vector) => vector.fault === undefined);
  assert.ok(packets.length >= 8);
  for (const vector of packets) {
    const entries = vector.entries.map((entry) => ({
      channel: entry.channel,
      id: entry.id ?? null,
      fragment: entry.fragment ? { index: entry.fragment[0], count: entry.fragment[1] } : null,
      payload: fromHex(entry.payload),
    }));
    const bytes = encodePacket({ sequence: vector.sequence, ack: vector.ack ?? null, entries }, 17000);
    assert.equal(toHex(bytes), vector.bytes, vector.name);
    const decoded = decodePacket(fromHex(vector.bytes), 4, hasID);
    assert.ok(decoded, vector.name);
    assert.equal(decoded.sequence, vector.sequence, vector.name);
    assert.deepEqual(decoded.ack, vector.ack ?? null, vector.name);
    assert.deepEqual(decoded.entries.map((entry) => ({
      channel: entry.channel,
      id: hasID(entry.channel) ? entry.id : null,
      fragment: entry.fragment ? [entry.fragment.index, entry.fragment.count] : null,
      payload: toHex(entry.payload),
    })), vector.entries.map((entry) => ({ channel: entry.channel, id: entry.id ?? null, fragment: entry.fragment ?? null, payload: entry.payload })), vector.name);
  }
});

test('a match connection refuses what the Swift one refuses, with the same fault', () => {
  const refusals = cases.filter((vector) => vector.fault !== undefined);
  assert.ok(refusals.length >= 10);
  for (const vector of refusals) {
    const connection = new ChannelConnection(matchConnectionConfiguration());
    for (const earlier of vector.before ?? []) connection.handlePacket(fromHex(earlier), 0);
    connection.handlePacket(fromHex(vector.bytes), 0);
    assert.equal(connection.fault?.description ?? 'none', vector.fault, vector.name);
  }
});
