// The arena: its entity as snapshots carry it (full and delta encodings), its input, its maps,
// and its movement, which the client runs to predict its own player. The movement is GameCore's
// ArenaRules.move step for step: integer subunits (4096 per world unit), with doubles only where
// a direction is normalised (IEEE arithmetic and square root, the same in every engine) and
// Swift's rounding (to nearest, halves away from zero), so a prediction equals the server's tick.

export const UNIT = 4096;
export const HALF_SIZE = Math.trunc((UNIT * 2) / 5);
export const EntityKind = Object.freeze({ player: 0, projectile: 1 });

/** Swift's `Double.rounded()`: to nearest, halves away from zero. */
export function roundHalfAway(value) { return value < 0 ? -Math.round(-value) : Math.round(value); }

const int32 = (value) => value | 0;

// Tuning, in units and seconds; converted to subunits per tick at the match's tick rate.
const MAX_SPEED = 8.0;
const ACCELERATION = 60.0;
const FRICTION = 40.0;

/** The movement constants at `tickRate` ticks per second (ArenaRules.Tuning). */
export function tuning(tickRate) {
  const rate = Math.max(1, tickRate);
  return {
    maxSpeed: roundHalfAway((MAX_SPEED * UNIT) / rate),
    acceleration: Math.max(1, roundHalfAway((ACCELERATION * UNIT) / (rate * rate))),
    friction: Math.max(1, roundHalfAway((FRICTION * UNIT) / (rate * rate))),
  };
}

function box(minX, minY, maxX, maxY) { return { minX, minY, maxX, maxY }; }

function overlaps(a, b) { return a.minX < b.maxX && b.minX < a.maxX && a.minY < b.maxY && b.minY < a.maxY; }

function bounds(x, y) { return box(x - HALF_SIZE, y - HALF_SIZE, x + HALF_SIZE, y + HALF_SIZE); }

/** A map from unit coordinates: four outer walls one unit thick, then the obstacles. */
function makeMap(name, width, height, obstacles, spawns) {
  const u = UNIT;
  const walls = [
    box(-u, -u, (width + 1) * u, 0),
    box(-u, height * u, (width + 1) * u, (height + 1) * u),
    box(-u, 0, 0, height * u),
    box(width * u, 0, (width + 1) * u, height * u),
    ...obstacles.map(([minX, minY, maxX, maxY]) => box(minX * u, minY * u, maxX * u, maxY * u)),
  ];
  return Object.freeze({
    name, width: width * u, height: height * u, walls, spawns: spawns.map(([x, y]) => ({ x: x * u + u / 2, y: y * u + u / 2 })),
  });
}

/** The maps the server hosts (GameCore's ArenaMap), by name; the first is the default. */
export const ARENA_MAPS = Object.freeze({
  default: makeMap('default', 48, 32,
    [[21, 13, 27, 19], [8, 6, 10, 8], [38, 6, 40, 8], [8, 24, 10, 26], [38, 24, 40, 26], [14, 3, 16, 11], [32, 21, 34, 29]],
    [[2, 2], [45, 2], [2, 29], [45, 29], [23, 2], [23, 29], [2, 15], [45, 15]]),
  empty: makeMap('empty', 48, 32, [], [[4, 16], [44, 16], [24, 4], [24, 28]]),
});

/** The map of that name; a name the client does not know plays the default map, as on the server. */
export function arenaMap(name) { return Object.hasOwn(ARENA_MAPS, name) ? ARENA_MAPS[name] : ARENA_MAPS.default; }

/** An arena input: move x and y (-127...127), aim (0 = +x, 16384 = +y), buttons. */
export function arenaInput({ moveX = 0, moveY = 0, aim = 0, buttons = 0 } = {}) { return { moveX, moveY, aim, buttons }; }
export const FIRE_HITSCAN = 1;
export const FIRE_PROJECTILE = 2;
export const IDLE_INPUT = Object.freeze(arenaInput());

/**
 * One tick of a body's movement: accelerate toward the input direction (or brake without one),
 * then move one axis at a time, stopping at walls.
 */
export function move(entity, input, tune, map) {
  const next = { ...entity };
  const mx = input.moveX / 127;
  const my = input.moveY / 127;
  const length = Math.sqrt(mx * mx + my * my);
  if (length > 0.001) {
    const scale = length > 1 ? 1 / length : 1;
    const targetX = roundHalfAway(mx * scale * tune.maxSpeed);
    const targetY = roundHalfAway(my * scale * tune.maxSpeed);
    next.vx = int32(next.vx + Math.max(-tune.acceleration, Math.min(tune.acceleration, targetX - next.vx)));
    next.vy = int32(next.vy + Math.max(-tune.acceleration, Math.min(tune.acceleration, targetY - next.vy)));
  } else {
    next.vx = int32(next.vx - Math.max(-tune.friction, Math.min(tune.friction, next.vx)));
    next.vy = int32(next.vy - Math.max(-tune.friction, Math.min(tune.friction, next.vy)));
  }
  next.x = int32(next.x + next.vx);
  for (const wall of map.walls) {
    if (!overlaps(wall, bounds(next.x, next.y))) continue;
    next.x = next.vx > 0 ? wall.minX - HALF_SIZE : wall.maxX + HALF_SIZE;
    next.vx = 0;
  }
  next.y = int32(next.y + next.vy);
  for (const wall of map.walls) {
    if (!overlaps(wall, bounds(next.x, next.y))) continue;
    next.y = next.vy > 0 ? wall.minY - HALF_SIZE : wall.maxY + HALF_SIZE;
    next.vy = 0;
  }
  return next;
}

/** The client's prediction of its own player for one tick (ArenaRules.predict). */
export function predict(entity, input, settings) {
  if (!(entity.flags & 1)) return entity;
  const next = move(entity, input, tuning(settings.tickRate), arenaMap(settings.map));
  next.aim = input.aim;
  return next;
}

// The snapshot encoding (docs/PROTOCOL.md, "Snapshot"): full entity and delta.

const POSITION_BITS = 21;
const VELOCITY_BITS = 17;
const SMALL_DELTA_BITS = 12;
const SMALL_VELOCITY_BITS = 9;
const SMALL_AIM_BITS = 10;
const FIELD_COUNT = 9;
const Field = { position: 0, velocity: 1, aim: 2, health: 3, flags: 4, owner: 5, score: 6, kills: 7, deaths: 8 };

export function arenaEntity(fields) {
  return {
    id: 0, kind: EntityKind.player, x: 0, y: 0, vx: 0, vy: 0, aim: 0, health: 0, flags: 0, owner: 0, score: 0, kills: 0, deaths: 0,
    ...fields,
  };
}

export function readFullEntity(id, wireKind, reader) {
  if (wireKind !== EntityKind.player && wireKind !== EntityKind.projectile) return null;
  const x = reader.readSigned(POSITION_BITS);
  const y = reader.readSigned(POSITION_BITS);
  const vx = reader.readSigned(VELOCITY_BITS);
  const vy = reader.readSigned(VELOCITY_BITS);
  const aim = reader.read(16);
  const health = reader.read(8);
  const flags = reader.read(8);
  const owner = reader.read(16);
  const score = reader.read(16);
  const kills = reader.read(16);
  const deaths = reader.read(16);
  if (reader.failed) return null;
  return { id, kind: wireKind, x, y, vx, vy, aim, health, flags, owner, score, kills, deaths };
}

export function writeFullEntity(entity, writer) {
  writer.writeSigned(entity.x, POSITION_BITS);
  writer.writeSigned(entity.y, POSITION_BITS);
  writer.writeSigned(entity.vx, VELOCITY_BITS);
  writer.writeSigned(entity.vy, VELOCITY_BITS);
  writer.write(entity.aim, 16);
  writer.write(entity.health, 8);
  writer.write(entity.flags, 8);
  writer.write(entity.owner, 16);
  writer.write(entity.score, 16);
  writer.write(entity.kills, 16);
  writer.write(entity.deaths, 16);
}

function readPair(old0, old1, smallBits, fullBits, reader) {
  const small = reader.readBool();
  if (small === null) return null;
  if (small) {
    const d0 = reader.readSigned(smallBits);
    const d1 = reader.readSigned(smallBits);
    if (d0 === null || d1 === null) return null;
    return [int32(old0 + d0), int32(old1 + d1)];
  }
  const v0 = reader.readSigned(fullBits);
  const v1 = reader.readSigned(fullBits);
  if (v0 === null || v1 === null) return null;
  return [v0, v1];
}

/** The entity `old` changed by the delta the reader is at; null when malformed. */
export function readDeltaEntity(old, reader) {
  const mask = reader.read(FIELD_COUNT);
  if (mask === null) return null;
  const has = (field) => (mask & (1 << field)) !== 0;
  const entity = { ...old };
  if (has(Field.position)) {
    const position = readPair(old.x, old.y, SMALL_DELTA_BITS, POSITION_BITS, reader);
    if (!position) return null;
    [entity.x, entity.y] = position;
  }
  if (has(Field.velocity)) {
    const velocity = readPair(old.vx, old.vy, SMALL_VELOCITY_BITS, VELOCITY_BITS, reader);
    if (!velocity) return null;
    [entity.vx, entity.vy] = velocity;
  }
  if (has(Field.aim)) {
    const small = reader.readBool();
    if (small === null) return null;
    const value = small ? reader.readSigned(SMALL_AIM_BITS) : reader.read(16);
    if (value === null) return null;
    entity.aim = small ? (old.aim + value) & 0xffff : value;
  }
  const plain = [['health', Field.health, 8], ['flags', Field.flags, 8], ['owner', Field.owner, 16], ['score', Field.score, 16],
    ['kills', Field.kills, 16], ['deaths', Field.deaths, 16]];
  for (const [name, field, bits] of plain) {
    if (!has(field)) continue;
    const value = reader.read(bits);
    if (value === null) return null;
    entity[name] = value;
  }
  return entity;
}

/** A player that died or respawned jumps: it is not interpolated across. */
export function interpolates(entity, old) { return entity.flags === old.flags; }

/** The arena as the generic client code uses it. */
export const arenaRules = Object.freeze({
  idleInput: IDLE_INPUT,
  predict,
  readFullEntity,
  readDeltaEntity,
  interpolates,
  encodeInput(input, writer) {
    writer.write(input.moveX & 0xff, 8);
    writer.write(input.moveY & 0xff, 8);
    writer.write(input.aim & 0xffff, 16);
    writer.write(input.buttons & 3, 2);
  },
  /** Decodes and validates an input (-128 reads as -127; other button bits reject it). */
  decodeInput(reader) {
    const x = reader.read(8);
    const y = reader.read(8);
    const aim = reader.read(16);
    const buttons = reader.read(2);
    if (reader.failed) return null;
    const signed = (byte) => (byte >= 128 ? byte - 256 : byte);
    return { moveX: Math.max(-127, signed(x)), moveY: Math.max(-127, signed(y)), aim, buttons };
  },
});
