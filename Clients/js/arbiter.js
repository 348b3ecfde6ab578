// Everything a page needs, from one module: `import { ArbiterClient, ControlPort } from '/js/arbiter.js'`.

export { BitReader, BitWriter } from './bits.js';
export {
  ByteReader, ByteWriter, decodePacket, encodePacket, readEntry, readHeader, writeEntry, writeHeader,
} from './channel-wire.js';
export {
  ChannelConnection, ChannelKind, ChannelSendError, channelConfiguration, connectionConfiguration, distance, isNewer,
} from './channel-connection.js';
export { MatchChannel, SNAPSHOT_CHANNELS, SPECTATE_MESSAGE, matchConnectionConfiguration } from './match-channel.js';
export {
  ARENA_MAPS, EntityKind, FIRE_HITSCAN, FIRE_PROJECTILE, HALF_SIZE, IDLE_INPUT, UNIT, arenaEntity, arenaInput, arenaMap, arenaRules,
  move, predict, roundHalfAway, tuning,
} from './arena.js';
export { INPUT_KIND, MAX_INPUTS, decodeInputMessage, encodeInputMessage } from './input-message.js';
export {
  MATCH_OVER_KIND, SNAPSHOT_KIND, SnapshotDecodeError, decodeMatchOver, decodeSnapshot, readSnapshotHeader,
} from './snapshot.js';
export { ClientSimulation } from './client-simulation.js';
export { MatchClientSession } from './match-session.js';
export { ArbiterClient, WebSocketTransport } from './arbiter-client.js';
export { ControlPort, ControlPortError } from './control-port.js';
