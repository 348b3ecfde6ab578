// The browser's game client: a MatchClientSession over a transport that carries one channel
// packet per message. The WebSocket transport speaks the game server's `GET /v1/play?token=…`
// endpoint: one binary frame per channel packet, both ways. Single-threaded: call tick(input)
// once per client tick (at the match's tick rate) and frame() whenever you draw.

import { arenaRules } from './arena.js';
import { MatchClientSession } from './match-session.js';

/**
 * A WebSocket as a packet transport. `poll()` hands over the packets that arrived since the
 * last call (Uint8Arrays); text frames are not part of the protocol and are counted, not kept.
 */
export class WebSocketTransport {
  constructor(url, { WebSocketImpl = globalThis.WebSocket } = {}) {
    if (!WebSocketImpl) throw new Error('no WebSocket implementation available');
    this.state = 'connecting';
    this.closeCode = null;
    this.closeReason = '';
    this.ignoredFrames = 0;
    this.received = [];
    this.socket = new WebSocketImpl(url);
    this.socket.binaryType = 'arraybuffer';
    this.socket.onopen = () => { this.state = 'open'; };
    this.socket.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) this.received.push(new Uint8Array(event.data));
      else this.ignoredFrames += 1;
    };
    this.socket.onclose = (event) => {
      this.state = 'closed';
      this.closeCode = event.code;
      this.closeReason = event.reason;
    };
    this.socket.onerror = () => {};
  }

  poll() {
    const packets = this.received;
    this.received = [];
    return packets;
  }

  send(packet) {
    if (this.state === 'open') this.socket.send(packet);
  }

  close(code = 1000, reason = '') {
    if (this.state !== 'closed') this.socket.close(code, reason);
  }
}

const monotonicSeconds = () => globalThis.performance.now() / 1000;

export class ArbiterClient {
  /**
   * `transport`: `{ state, poll(), send(packet), close() }` (WebSocketTransport or a test's own);
   * `settings`: the match's `{ tickRate, map }` (from the game's settings); `clock`: monotonic
   * seconds.
   */
  constructor({ transport, settings, rules = arenaRules, clock = monotonicSeconds }) {
    this.transport = transport;
    this.settings = { tickRate: settings.tickRate ?? settings.tick_rate ?? 60, map: settings.map ?? 'default' };
    this.rules = rules;
    this.clock = clock;
    this.session = new MatchClientSession(rules, this.settings);
    this.reliableMessages = [];
    this.packetsSent = 0;
    this.packetsReceived = 0;
    this.lastSnapshotAt = null;
    this.snapshotGaps = [];
  }

  /** Opens a WebSocket to `url` (see ControlPort.playURL) and returns a client on it. */
  static connect(url, options) {
    return new ArbiterClient({ ...options, transport: new WebSocketTransport(url, options) });
  }

  get channels() { return this.session.channels; }
  get simulation() { return this.session.simulation; }
  get state() { return this.transport.state; }
  get spectating() { return this.session.spectating; }
  get finalStandings() { return this.session.finalStandings; }

  /**
   * One client tick: take what arrived, hand snapshots to the simulation, then (while the
   * transport is open) queue this tick's input and send what the channels owe. Returns the
   * packets sent.
   */
  tick(input) {
    const now = this.clock();
    for (const packet of this.transport.poll()) {
      this.packetsReceived += 1;
      this.session.handlePacket(packet, now);
    }
    this.session.deliverMessages(now, () => this.recordSnapshot(now), (message) => this.reliableMessages.push(message));
    if (this.transport.state !== 'open') return [];
    this.session.sendInput(input, now);
    const packets = this.session.generatePackets(now);
    for (const packet of packets) this.transport.send(packet);
    this.packetsSent += packets.length;
    return packets;
  }

  /** Calls tick(input()) at the match's tick rate on absolute deadlines; returns a stop function. */
  startTicking(input, { onTick = () => {} } = {}) {
    const interval = 1 / this.settings.tickRate;
    let next = this.clock();
    let timer = null;
    let stopped = false;
    const run = () => {
      if (stopped) return;
      this.tick(input());
      onTick(this);
      next += interval;
      const now = this.clock();
      if (next < now - 4 * interval) next = now; // far behind (a background tab): skip ahead
      timer = setTimeout(run, Math.max(0, (next - now) * 1000));
    };
    run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /** What to draw now: `{ local, remote, renderTick, latest }`. */
  frame() { return this.session.simulation.frame(this.clock()); }

  spectate() { this.session.spectate(); }

  /** Queues a reliable message (channel 0); the game server echoes it back into reliableMessages. */
  sendReliable(bytes) { return this.session.sendReliable(bytes); }

  /** Round-trip time in seconds and packet loss as a fraction, from the channel layer. */
  get roundTripTime() { return this.session.channels.statistics.rtt; }
  get packetLoss() { return this.session.channels.statistics.packetLoss; }

  recordSnapshot(now) {
    if (this.lastSnapshotAt !== null) {
      this.snapshotGaps.push(now - this.lastSnapshotAt);
      if (this.snapshotGaps.length > 600) this.snapshotGaps.splice(0, this.snapshotGaps.length - 600);
    }
    this.lastSnapshotAt = now;
  }

  disconnect() { this.transport.close(); }
}
