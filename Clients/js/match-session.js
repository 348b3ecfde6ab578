// The client end of a match connection, sans-IO (GameCore's MatchClientSession): the channel
// connection laid out as match-channel.js says, and the predicting, interpolating
// ClientSimulation on top. ArbiterClient drives it over a transport; tests drive it by hand.

import { ChannelConnection } from './channel-connection.js';
import { ClientSimulation } from './client-simulation.js';
import { MatchChannel, SNAPSHOT_CHANNELS, SPECTATE_MESSAGE, matchConnectionConfiguration } from './match-channel.js';
import { MATCH_OVER_KIND, decodeMatchOver } from './snapshot.js';

export class MatchClientSession {
  constructor(rules, settings) {
    this.channels = new ChannelConnection(matchConnectionConfiguration());
    this.simulation = new ClientSimulation(rules, settings);
    this.spectating = false;
    /** Reliable messages (channel 0) that came back: the server echoes each one. */
    this.reliableReceived = 0;
    /** The final standings, once the server said the match is over. */
    this.finalStandings = null;
  }

  /** A packet from the server (channel-layer bytes). */
  handlePacket(bytes, now) { this.channels.handlePacket(bytes, now); }

  /**
   * Hands every snapshot that arrived to the simulation (`applied` runs for each one it took)
   * and every reliable echo to `reliable` (or just counts it).
   */
  deliverMessages(now, applied = () => {}, reliable = () => {}) {
    for (const channel of SNAPSHOT_CHANNELS) {
      for (let message = this.channels.receive(channel); message; message = this.channels.receive(channel)) {
        if (message[0] === MATCH_OVER_KIND) {
          this.finalStandings = decodeMatchOver(message) ?? this.finalStandings;
        } else if (this.simulation.receiveSnapshot(message, now)) {
          applied();
        }
      }
    }
    for (let message = this.channels.receive(MatchChannel.reliable); message; message = this.channels.receive(MatchChannel.reliable)) {
      this.reliableReceived += 1;
      reliable(message);
    }
  }

  /** Queues this tick's input (nothing while spectating); returns its sequence number or null. */
  sendInput(input, now) {
    if (this.spectating) return null;
    const message = this.simulation.makeInputMessage(input, now);
    try {
      this.channels.send(message, MatchChannel.input);
    } catch {
      // An input that cannot be queued is lost like a dropped packet; the next one repeats it.
    }
    return this.simulation.inputSequence;
  }

  /** Asks the server for spectator mode: no player of our own, the whole world in view. */
  spectate() {
    this.spectating = true;
    try {
      this.channels.send(Uint8Array.of(SPECTATE_MESSAGE), MatchChannel.input);
    } catch {
      // Nothing to do: the connection is gone.
    }
  }

  /** Queues a reliable message (channel 0), which the server echoes back; false if refused. */
  sendReliable(bytes) {
    try {
      this.channels.send(bytes, MatchChannel.reliable);
      return true;
    } catch {
      return false;
    }
  }

  /** The packets the channels owe the server now. */
  generatePackets(now) { return this.channels.generatePackets(now); }
}
