// WebSocket players for tools/bench-websocket: the repository's own JS client (Clients/js, the
// code the /play page runs: prediction, reconciliation, interpolation) in node, N players in
// games of PER_GAME, each ticking at its match's tick rate with a scripted input.
//
//   node Benchmarks/websocket-players.mjs \
//        --control http://127.0.0.1:PORT --players N [--per-game 16] [--seconds S] [--seed K]
//
// Prints `websocket-players: ready players=N` once every player's socket is open and it has
// seen a snapshot, then, after S seconds of play, one JSON line of what the players saw:
// `{"players":N,"open":N,"snapshots_per_second":…,"rtt_ms_median":…,"rtt_ms_p99":…}`.
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { ArbiterClient, ControlPort, arenaInput } from '../Clients/js/arbiter.js';

/**
 * A WebSocket client on node:net with the browser's interface (what WebSocketTransport uses):
 * RFC 6455 client frames (masked), binary and text in, ping answered, close handshake. Node 20's
 * own WebSocket (undici, behind --experimental-websocket) left about one socket in six of this
 * run connecting for ever when the server's first frames came right behind its 101 answer.
 */
class NetWebSocket {
  constructor(url) {
    const target = new URL(url);
    this.binaryType = 'arraybuffer';
    this.readyState = 0;
    this.onopen = this.onmessage = this.onclose = this.onerror = () => {};
    this.key = randomBytes(16).toString('base64');
    this.buffer = Buffer.alloc(0);
    this.socket = connect({ host: target.hostname, port: Number(target.port) || 80 }, () => {
      this.socket.setNoDelay(true);
      this.socket.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\n`
        + `Connection: Upgrade\r\nSec-WebSocket-Key: ${this.key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    this.socket.on('data', (chunk) => this.received(chunk));
    this.socket.on('error', () => this.ended(1006, 'connection error'));
    this.socket.on('close', () => this.ended(1006, 'connection closed'));
  }

  received(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.readyState === 0) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buffer.subarray(0, end).toString('latin1');
      const accept = createHash('sha1').update(this.key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      if (!head.startsWith('HTTP/1.1 101') || !head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
        this.socket.destroy();
        return this.ended(1006, `upgrade refused: ${head.split('\r\n')[0]}`);
      }
      this.buffer = this.buffer.subarray(end + 4);
      this.readyState = 1;
      this.onopen();
    }
    while (this.buffer.length >= 2) {
      const opcode = this.buffer[0] & 0x0f;
      let length = this.buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) { if (this.buffer.length < 4) return; length = this.buffer.readUInt16BE(2); offset = 4; }
      else if (length === 127) { if (this.buffer.length < 10) return; length = Number(this.buffer.readBigUInt64BE(2)); offset = 10; }
      if (this.buffer.length < offset + length) return;
      const payload = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 0x2) this.onmessage({ data: payload.buffer.slice(payload.byteOffset, payload.byteOffset + payload.length) });
      else if (opcode === 0x1) this.onmessage({ data: payload.toString('utf8') });
      else if (opcode === 0x9) this.frame(0xa, payload);
      else if (opcode === 0x8) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.close(code === 1005 ? 1000 : code);
        this.ended(code, payload.subarray(2).toString('utf8'));
        this.socket.end();
      }
    }
  }

  frame(opcode, payload) {
    const length = payload.length;
    const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length])
      : Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff]);
    const mask = randomBytes(4);
    const masked = Buffer.from(payload);
    for (let index = 0; index < masked.length; index += 1) masked[index] ^= mask[index & 3];
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  send(packet) { if (this.readyState === 1) this.frame(0x2, Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength)); }

  close(code = 1000, reason = '') {
    if (this.readyState !== 1) return;
    this.readyState = 2;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.frame(0x8, payload);
  }

  ended(code, reason) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose({ code, reason });
  }
}

const options = { control: null, players: 32, perGame: 16, seconds: 20, seed: Date.now() % 100000 };
for (let index = 2; index < process.argv.length; index += 2) {
  const [flag, value] = [process.argv[index], process.argv[index + 1]];
  if (flag === '--control') options.control = value;
  else if (flag === '--players') options.players = Number(value);
  else if (flag === '--per-game') options.perGame = Number(value);
  else if (flag === '--seconds') options.seconds = Number(value);
  else if (flag === '--seed') options.seed = Number(value);
  else throw new Error(`unknown option ${flag}`);
}
if (!options.control) throw new Error('--control URL is required');

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

async function register(index) {
  const port = new ControlPort(options.control);
  await port.register({ username: `ws${options.seed}x${index}`, email: `ws${options.seed}x${index}@bench.invalid`, password: 'correct horse battery' });
  return port;
}

const ports = [];
for (let index = 0; index < options.players; index += 1) ports.push(await register(index));

// Every join first, then every socket.
const joins = [];
for (let first = 0; first < ports.length; first += options.perGame) {
  const group = ports.slice(first, first + options.perGame);
  const game = await group[0].createGame({ name: `ws bench ${first / options.perGame}`, settings: { max_players: options.perGame } });
  for (const port of group) joins.push({ port, game, join: await port.join(game.id) });
}

const clients = [];
const stops = [];
for (const [index, { port, game, join }] of joins.entries()) {
  const client = ArbiterClient.connect(port.playURL(join), { settings: game.settings, WebSocketImpl: NetWebSocket });
  // Circles of different sizes, and a slow turn of the aim: every player moves every tick.
  let tick = 0;
  stops.push(client.startTicking(() => {
    tick += 1;
    const angle = (tick / (40 + (index % 7) * 10)) * 2 * Math.PI;
    return arenaInput({
      moveX: Math.round(Math.cos(angle) * 127), moveY: Math.round(Math.sin(angle) * 127),
      aim: (tick * 97) & 0xffff, buttons: 0,
    });
  }));
  clients.push(client);
}

// Ready: every socket open and every player has seen a snapshot (bounded: 30 s).
for (let waited = 0; ; waited += 0.1) {
  if (clients.every((client) => client.state === 'open' && client.lastSnapshotAt !== null)) break;
  if (waited > 30) {
    const open = clients.filter((client) => client.state === 'open').length;
    const closes = clients.filter((client) => client.state === 'closed').map((client) => `${client.transport.closeCode} ${client.transport.closeReason}`);
    const silent = clients.filter((client) => client.state === 'open' && client.lastSnapshotAt === null).length;
    console.error(`websocket-players: only ${open} of ${clients.length} sockets open after 30 s (${silent} without a snapshot; closed: ${closes.join(', ') || 'none'})`);
    process.exit(1);
  }
  await sleep(0.1);
}
console.log(`websocket-players: ready players=${clients.length}`);

const before = clients.map((client) => client.packetsReceived);
const rtts = [];
const started = performance.now();
for (let second = 0; second < options.seconds; second += 1) {
  await sleep(1);
  for (const client of clients) if (client.state === 'open') rtts.push(client.roundTripTime * 1000);
}
const elapsed = (performance.now() - started) / 1000;
const packets = clients.reduce((sum, client, index) => sum + client.packetsReceived - before[index], 0);
const open = clients.filter((client) => client.state === 'open').length;
rtts.sort((a, b) => a - b);
const at = (fraction) => (rtts.length ? rtts[Math.min(rtts.length - 1, Math.floor(fraction * rtts.length))] : null);
for (const stop of stops) stop();
for (const client of clients) client.disconnect();
console.log(JSON.stringify({
  players: clients.length, open,
  packets_per_second: packets / elapsed / clients.length,
  rtt_ms_median: at(0.5), rtt_ms_p99: at(0.99),
}));
await sleep(0.5);
process.exit(open === clients.length ? 0 : 1);
