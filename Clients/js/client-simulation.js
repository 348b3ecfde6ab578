// The client half of a match, sans-IO (GameCore's ClientSimulation, decision for decision): it
// turns local inputs into input messages while predicting the local player with the game's own
// movement, reconciles on every snapshot (rewind to the server's state at the last applied
// input, replay the inputs since), smooths the visible correction over a few frames, and
// interpolates everyone else from a buffer whose delay follows the measured jitter and loss.
//
// `now` is the client's monotonic time in seconds; nothing here reads a clock.

import { UNIT, roundHalfAway } from './arena.js';
import { MAX_INPUTS, encodeInputMessage } from './input-message.js';
import { decodeSnapshot } from './snapshot.js';

const PENDING_LIMIT = 256;
const HISTORY_LIMIT = 64;
const CORRECTION_LIMIT = 1000;
const UINT32_MAX = 0xffffffff;

export class ClientSimulation {
  /** `settings` needs `tickRate` and `map` (the match's, from the game). */
  constructor(rules, settings) {
    this.rules = rules;
    this.settings = settings;
    this.tickRate = settings.tickRate;
    this.inputSequence = 0;
    this.pending = [];
    this.predicted = null;
    this.yourEntity = null;
    this.smoothingX = 0;
    this.smoothingY = 0;
    this.lastRender = null;
    /** The size of the last correction, in world units. */
    this.lastCorrection = 0;
    this.corrections = [];
    /** Position jumps too large to be prediction errors (respawns). */
    this.teleports = 0;
    this.received = [];
    this.newestTick = 0;
    this.snapshotsReceived = 0;
    this.snapshotsDropped = 0;
    this.lastApplied = 0;
    this.tickOffset = null;
    this.jitterTicks = 0;
    this.lostTicks = 0;
    this.interpolationDelayTicks = 2.0;
    /** Render no further ahead of the newest snapshot than this (ticks) when extrapolating. */
    this.maxExtrapolationTicks = 3.0;
    /** Off: no local prediction or replay; the local player is the server's latest copy. */
    this.predicts = true;
  }

  /** Records this tick's input, predicts its effect, and returns the input message to send. */
  makeInputMessage(input, now) {
    this.inputSequence = (this.inputSequence + 1) >>> 0;
    this.pending.push({ sequence: this.inputSequence, input });
    if (this.pending.length > PENDING_LIMIT) this.pending.splice(0, this.pending.length - PENDING_LIMIT);
    if (this.predicts && this.predicted) this.predicted = this.rules.predict(this.predicted, input, this.settings);
    const recent = this.pending.slice(-MAX_INPUTS).reverse().map((entry) => entry.input);
    const viewTick = Math.max(0, Math.min(UINT32_MAX, Math.floor(this.renderTick(now))));
    return encodeInputMessage({ ackedSnapshot: this.newestTick, viewTick, newestSequence: this.inputSequence, inputs: recent }, this.rules);
  }

  /** A snapshot from the server; false if it could not be used (malformed, no baseline, old). */
  receiveSnapshot(bytes, now) {
    let decoded;
    try {
      decoded = decodeSnapshot(bytes, (tick) => {
        for (let index = this.received.length - 1; index >= 0; index--) {
          if (this.received[index].tick === tick) return this.received[index].entities;
        }
        return null;
      }, this.rules);
    } catch {
      this.snapshotsDropped += 1;
      return false;
    }
    const { header, entities } = decoded;
    if (!(header.tick > this.newestTick)) {
      this.snapshotsDropped += 1;
      return false;
    }
    this.snapshotsReceived += 1;
    if (this.newestTick > 0 && header.tick > this.newestTick + 1) this.lostTicks += header.tick - this.newestTick - 1;
    this.lostTicks *= 0.95;
    this.newestTick = header.tick;
    this.received.push({ tick: header.tick, entities, arrival: now });
    if (this.received.length > HISTORY_LIMIT) this.received.splice(0, this.received.length - HISTORY_LIMIT);
    this.updateClock(header.tick, now);
    this.yourEntity = header.yourEntity;
    this.reconcile(entities.find((entity) => entity.id === header.yourEntity) ?? null, header.lastAppliedInput);
    return true;
  }

  updateClock(tick, now) {
    const sample = tick - now * this.tickRate;
    if (this.tickOffset === null) {
      this.tickOffset = sample;
      return;
    }
    // Late packets show up as a lower offset; track the deviation as jitter, and let the offset
    // follow the earliest arrivals (they carry the least queueing delay).
    const offset = this.tickOffset;
    const deviation = offset - sample;
    this.jitterTicks += (Math.abs(deviation) - this.jitterTicks) * 0.1;
    this.tickOffset = sample > offset ? offset + (sample - offset) * 0.5 : offset + (sample - offset) * 0.02;
    const lossAllowance = Math.min(4, this.lostTicks * 0.5);
    this.interpolationDelayTicks = Math.min(20, Math.max(1.5, 1 + 2.5 * this.jitterTicks + lossAllowance));
  }

  reconcile(server, applied) {
    if (!server) {
      // No entity of our own (spectating, or not yet in the world).
      this.predicted = null;
      return;
    }
    this.lastApplied = applied;
    this.pending = this.pending.filter((entry) => entry.sequence > applied);
    if (!this.predicts) {
      this.predicted = server;
      return;
    }
    let replayed = server;
    for (const { input } of this.pending) replayed = this.rules.predict(replayed, input, this.settings);
    const before = this.predicted;
    if (before) {
      const dx = before.x - replayed.x;
      const dy = before.y - replayed.y;
      const size = Math.sqrt(dx * dx + dy * dy) / UNIT;
      if (size >= 4) {
        // A teleport (respawn), not a prediction error: shown at once, not counted.
        this.teleports += 1;
        this.smoothingX = 0;
        this.smoothingY = 0;
      } else if (size > 0) {
        this.lastCorrection = size;
        this.corrections.push(size);
        if (this.corrections.length > CORRECTION_LIMIT) this.corrections.splice(0, this.corrections.length - CORRECTION_LIMIT);
        this.smoothingX += dx;
        this.smoothingY += dy;
      }
    }
    this.predicted = replayed;
  }

  /** The server tick (fractional) the client should display remote entities at now. */
  renderTick(now) {
    if (this.tickOffset === null) return 0;
    return now * this.tickRate + this.tickOffset - this.interpolationDelayTicks;
  }

  /**
   * What a renderer needs this frame: `local` (predicted, plus the decaying correction),
   * `remote` (everyone else, interpolated at `renderTick`), and `latest` (the newest snapshot).
   */
  frame(now) {
    const elapsed = this.lastRender === null ? 0 : Math.max(0, now - this.lastRender);
    this.lastRender = now;
    const decay = Math.exp(-elapsed / 0.1);
    this.smoothingX *= decay;
    this.smoothingY *= decay;
    let local = this.predicted;
    if (local) {
      local = { ...local, x: (local.x + roundHalfAway(this.smoothingX)) | 0, y: (local.y + roundHalfAway(this.smoothingY)) | 0 };
    }
    const tick = this.renderTick(now);
    const remote = this.interpolated(tick).filter((entity) => entity.id !== this.yourEntity);
    const latest = this.received.length ? this.received[this.received.length - 1].entities : [];
    return { local, remote, renderTick: tick, latest };
  }

  /**
   * Entities at a fractional server tick: between the two snapshots around it, or carried on
   * from the newest for at most `maxExtrapolationTicks`.
   */
  interpolated(tick) {
    if (this.received.length === 0) return [];
    const newest = this.received[this.received.length - 1];
    const upperIndex = this.received.findIndex((snapshot) => snapshot.tick >= tick);
    if (upperIndex < 0) {
      const ahead = Math.min(this.maxExtrapolationTicks, tick - newest.tick);
      return newest.entities.map((entity) => ({
        ...entity,
        x: (entity.x + roundHalfAway(entity.vx * ahead)) | 0,
        y: (entity.y + roundHalfAway(entity.vy * ahead)) | 0,
      }));
    }
    const upper = this.received[upperIndex];
    if (upperIndex === 0) return upper.entities;
    const lower = this.received[upperIndex - 1];
    const span = upper.tick - lower.tick;
    const t = span > 0 ? (tick - lower.tick) / span : 1;
    const before = new Map();
    for (const entity of lower.entities) if (!before.has(entity.id)) before.set(entity.id, entity);
    return upper.entities.map((entity) => {
      const old = before.get(entity.id);
      if (!old || !this.rules.interpolates(entity, old)) return entity;
      return {
        ...entity,
        x: (old.x + roundHalfAway((entity.x - old.x) * t)) | 0,
        y: (old.y + roundHalfAway((entity.y - old.y) * t)) | 0,
      };
    });
  }

  /** Inputs sent but not yet applied by the server. */
  get unacknowledgedInputs() { return this.pending.length; }
}
