import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArbiterClient, MatchClientSession, arenaRules } from '../arbiter.js';
import { fromHex, loadVectors, toHex } from '../test-support/vectors.js';

const { meta, cases } = loadVectors('match-session.json');

function checkStep(session, step, where) {
  const simulation = session.simulation;
  assert.deepEqual(simulation.predicted, step.predicted ?? null, where);
  assert.equal(simulation.newestTick, step.newestTick, where);
  assert.equal(simulation.lastApplied, step.lastApplied, where);
  assert.equal(simulation.snapshotsReceived, step.snapshotsReceived, where);
  assert.equal(session.reliableReceived, step.reliableReceived, where);
  assert.equal(simulation.yourEntity, step.yourEntity ?? null, where);
  const renderTick = simulation.renderTick(step.time);
  assert.equal(renderTick, step.renderTick, where);
  assert.deepEqual(simulation.interpolated(renderTick).filter((entity) => entity.id !== simulation.yourEntity), step.remote, where);
}

test('a match session against the production server: the same packets, predictions and interpolation', () => {
  const session = new MatchClientSession(arenaRules, meta.settings);
  for (const [index, step] of cases.entries()) {
    for (const packet of step.deliver) session.handlePacket(fromHex(packet), step.time);
    session.deliverMessages(step.time);
    session.sendInput(step.input, step.time);
    if (step.reliable) assert.ok(session.sendReliable(fromHex(step.reliable)));
    assert.deepEqual(session.generatePackets(step.time).map(toHex), step.sent, `packets at step ${index}`);
    checkStep(session, step, `step ${index}`);
  }
  assert.equal(session.channels.statistics.rtt, meta.finalRTT);
  assert.equal(session.channels.statistics.packetLoss, meta.finalLoss);
  assert.ok(session.simulation.snapshotsReceived > 300);
});

test('ArbiterClient plays the same session over a packet transport', () => {
  let now = 0;
  let inbox = [];
  const outbox = [];
  const transport = {
    state: 'open',
    poll() {
      const packets = inbox;
      inbox = [];
      return packets;
    },
    send(packet) { outbox.push(toHex(packet)); },
    close() { this.state = 'closed'; },
  };
  const client = new ArbiterClient({ transport, settings: { tick_rate: 60, map: 'default' }, clock: () => now });
  let reliable = 0;
  for (const [index, step] of cases.entries()) {
    now = step.time;
    inbox = step.deliver.map(fromHex);
    // Queued before tick() queues the input: channels fill packets in index order, so the
    // order of queueing across channels does not change the packets.
    if (step.reliable) {
      assert.ok(client.sendReliable(fromHex(step.reliable)));
      reliable += 1;
    }
    outbox.length = 0;
    client.tick(step.input);
    assert.deepEqual(outbox, step.sent, `packets at step ${index}`);
    checkStep(client.session, step, `step ${index}`);
  }
  assert.ok(reliable > 5);
  assert.equal(client.reliableMessages.length, cases[cases.length - 1].reliableReceived);
  assert.equal(client.roundTripTime, meta.finalRTT);
  assert.ok(client.frame().local);
  client.disconnect();
  assert.equal(client.state, 'closed');
});
