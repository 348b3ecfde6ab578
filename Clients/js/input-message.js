// The client's input message (docs/PROTOCOL.md, "Input"): the newest snapshot it decoded (the
// server's next delta baseline), the server tick it renders others at (lag compensation), and
// its newest inputs, newest first, so that one lost packet loses no input.

import { BitReader, BitWriter } from './bits.js';

export const INPUT_KIND = 1;
export const MAX_INPUTS = 8;

/** Encodes `{ ackedSnapshot, viewTick, newestSequence, inputs }` with the rules' input codec. */
export function encodeInputMessage({ ackedSnapshot, viewTick, newestSequence, inputs }, rules) {
  if (inputs.length < 1 || inputs.length > MAX_INPUTS) throw new RangeError(`an input message carries 1...${MAX_INPUTS} inputs`);
  const writer = new BitWriter();
  writer.write(INPUT_KIND, 8);
  writer.write(ackedSnapshot >>> 0, 32);
  writer.write(viewTick >>> 0, 32);
  writer.write(newestSequence >>> 0, 32);
  writer.write(inputs.length, 4);
  for (const input of inputs) rules.encodeInput(input, writer);
  return writer.finish();
}

/** The message, or null when malformed (wrong kind, 0 or more than 8 inputs, truncated, trailing bits). */
export function decodeInputMessage(bytes, rules) {
  const reader = new BitReader(bytes);
  const kind = reader.read(8);
  const ackedSnapshot = reader.read(32);
  const viewTick = reader.read(32);
  const newestSequence = reader.read(32);
  const count = reader.read(4);
  if (reader.failed || kind !== INPUT_KIND || count < 1 || count > MAX_INPUTS) return null;
  const inputs = [];
  for (let index = 0; index < count; index++) {
    const input = rules.decodeInput(reader);
    if (!input) return null;
    inputs.push(input);
  }
  if (reader.failed || reader.remainingBits >= 8) return null;
  return { ackedSnapshot, viewTick, newestSequence, inputs };
}
