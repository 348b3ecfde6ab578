// The channels of a match connection and the settings both ends use (docs/PROTOCOL.md, "Match
// messages"; GameCore's MatchChannel): a client must use exactly these.

import { ChannelKind, channelConfiguration, connectionConfiguration } from './channel-connection.js';

export const MatchChannel = Object.freeze({
  /** Reliable-ordered messages, echoed back by the server. */
  reliable: 0,
  /** Server to client: snapshots too large for one packet (reliable-unordered). */
  largeSnapshot: 1,
  /** Client to server: input messages and the spectate request (unreliable-unordered). */
  input: 2,
  /** Server to client: snapshots and the match-over message (unreliable-sequenced). */
  snapshot: 3,
});

/** Where snapshots arrive at the client, large ones first. */
export const SNAPSHOT_CHANNELS = Object.freeze([MatchChannel.largeSnapshot, MatchChannel.snapshot]);

/** Message kinds on the input channel besides input messages. */
export const SPECTATE_MESSAGE = 3;

const NETCODE_MAX_PAYLOAD_BYTES = 1200;

/** Windows 64, 16, 8, 8; largest messages 8 KiB, 32 KiB, one packet, one packet. */
export function matchConnectionConfiguration() {
  const kinds = [ChannelKind.reliableOrdered, ChannelKind.reliableUnordered, ChannelKind.unreliableUnordered, ChannelKind.unreliableSequenced];
  const windows = [64, 16, 8, 8];
  const largest = [8 * 1024, 32 * 1024, NETCODE_MAX_PAYLOAD_BYTES, NETCODE_MAX_PAYLOAD_BYTES];
  return connectionConfiguration({
    channels: kinds.map((kind, index) => channelConfiguration({
      kind, sendQueueSize: windows[index], receiveQueueSize: windows[index], maxMessageBytes: largest[index],
    })),
    sentPacketHistory: 128,
    receivedPacketHistory: 128,
    maxReassemblyBytes: 256 * 1024,
    memoryBudgetBytes: 1024 * 1024,
    budgetBytesPerTick: 16 * 1024,
  });
}
