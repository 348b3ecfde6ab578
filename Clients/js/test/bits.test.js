import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BitReader, BitWriter } from '../arbiter.js';

test('bit fields round-trip least significant bit first, and reads past the end fail', () => {
  const writer = new BitWriter();
  writer.write(1, 1);
  writer.write(0xffffffff, 32);
  writer.writeSigned(-5, 12);
  writer.write(0x1234, 16);
  assert.equal(writer.bitCount, 61);
  const bytes = writer.finish();
  assert.equal(bytes.length, 8);
  assert.equal(bytes[0], 0xff);
  const reader = new BitReader(bytes);
  assert.equal(reader.read(1), 1);
  assert.equal(reader.read(32), 0xffffffff);
  assert.equal(reader.readSigned(12), -5);
  assert.equal(reader.read(16), 0x1234);
  assert.equal(reader.read(8), null);
  assert.ok(reader.failed);
  assert.equal(reader.read(1), null);
  assert.throws(() => writer.write(4, 2), RangeError);
});
