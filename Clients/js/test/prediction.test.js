import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClientSimulation, arenaRules, predict } from '../arbiter.js';
import { fromHex, loadVectors, toHex } from '../test-support/vectors.js';

test('prediction equals the server\'s arena movement bit for bit, tick after tick', () => {
  const { cases } = loadVectors('arena-movement.json');
  let ticks = 0;
  for (const run of cases) {
    let entity = run.states[0];
    for (let tick = 1; tick < run.states.length; tick++) {
      entity = predict(entity, run.inputs[tick], run.settings);
      assert.deepEqual(entity, run.states[tick], `${run.settings.map} at ${run.settings.tickRate} Hz, tick ${tick}`);
      ticks += 1;
    }
  }
  assert.ok(ticks > 1500);
});

test('reconciliation replays unacknowledged inputs from the server\'s state as the Swift client does', () => {
  const { cases } = loadVectors('reconciliation.json');
  const simulation = new ClientSimulation(arenaRules, { tickRate: 60, map: 'empty' });
  for (const [index, step] of cases.entries()) {
    const where = `step ${index}`;
    assert.equal(toHex(simulation.makeInputMessage(step.input, step.time)), step.message, where);
    for (const snapshot of step.snapshots) simulation.receiveSnapshot(fromHex(snapshot), step.time);
    const frame = simulation.frame(step.time);
    assert.deepEqual(simulation.predicted, step.predicted ?? null, where);
    for (const name of ['lastApplied', 'newestTick', 'unacknowledgedInputs', 'teleports', 'lastCorrection', 'interpolationDelayTicks',
      'jitterTicks', 'snapshotsReceived', 'snapshotsDropped']) {
      assert.equal(simulation[name], step[name], `${name} at ${where}`);
    }
    assert.equal(simulation.corrections.length, step.corrections, where);
    assert.equal(frame.renderTick, step.renderTick, where);
    if (step.shown) {
      // The shown position decays the correction with exp(), which may differ in its last bit
      // between engines: within one subunit.
      assert.ok(Math.abs(frame.local.x - step.shown.x) <= 1 && Math.abs(frame.local.y - step.shown.y) <= 1, where);
    } else {
      assert.equal(frame.local, null, where);
    }
  }
  assert.ok(cases[cases.length - 1].corrections > 0);
});
