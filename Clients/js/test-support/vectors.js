// Reads the known-answer vectors the Swift tests write (Tests/GameCoreTests/JSVectorsTests.swift).
import { readFileSync } from 'node:fs';

export function loadVectors(name) {
  return JSON.parse(readFileSync(new URL(`../test/vectors/${name}`, import.meta.url), 'utf8'));
}

export function fromHex(text) {
  const bytes = new Uint8Array(text.length / 2);
  for (let index = 0; index < bytes.length; index++) bytes[index] = parseInt(text.slice(2 * index, 2 * index + 2), 16);
  return bytes;
}

export function toHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** A vector entity with every field, as the JS code represents one. */
export function entity(fields) {
  return { ...fields };
}
