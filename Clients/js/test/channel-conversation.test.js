import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelConnection, matchConnectionConfiguration } from '../arbiter.js';
import { fromHex, loadVectors, toHex } from '../test-support/vectors.js';

test('the JS connection sends the Swift connection\'s packets byte for byte over a lossy link', () => {
  const { meta, cases } = loadVectors('channel-conversation.json');
  const connection = new ChannelConnection(matchConnectionConfiguration());
  let resends = 0;
  for (const [index, step] of cases.entries()) {
    for (const packet of step.deliver) connection.handlePacket(fromHex(packet), step.time);
    const received = [];
    for (let channel = 0; channel < 4; channel++) {
      for (let message = connection.receive(channel); message; message = connection.receive(channel)) {
        received.push({ channel, bytes: toHex(message) });
      }
    }
    assert.deepEqual(received, step.received, `messages read at step ${index}`);
    for (const { channel, bytes } of step.send) {
      try {
        connection.send(fromHex(bytes), channel);
      } catch {
        // Refused exactly when the Swift connection refused it: the packets below show it.
      }
    }
    const sent = connection.generatePackets(step.time).map(toHex);
    assert.deepEqual(sent, step.sent, `packets sent at step ${index}`);
    resends = connection.statistics.resends;
  }
  assert.equal(connection.fault, null);
  assert.ok(resends > 0);
  const statistics = connection.statistics;
  for (const [name, value] of Object.entries(meta.statisticsAfter)) assert.equal(statistics[name], value, name);
  assert.equal(connection.resendDelay, meta.resendDelayAfter);
});
