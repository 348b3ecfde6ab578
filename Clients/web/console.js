// The /console page (operators: `arbiter serve --operator NAME`): GET /v1/console/overview once
// a second — live matches and their players, the game server's tick durations and phases,
// traffic and drops, the global board, recent lobby chat — with figures over time computed from
// successive readings (every counter only grows), and a spectator view of any public match.

import { ArbiterClient, ControlPort, ControlPortError, arenaMap } from '/js/arbiter.js';
import { drawArena, element } from '/web/shared.js';

const port = new ControlPort(location.origin);
const $ = (id) => document.getElementById(id);
const STORED = 'arbiter.session';
const HISTORY = 120;

/** For tests and people: the newest overview and the spectator view's state. */
const state = { overview: null, refreshes: 0, watching: null, snapshots: 0, connected: false, error: null };
window.arbiterConsole = state;

function showError(where, error) {
  const text = error ? (error instanceof ControlPortError ? `${error.code}: ${error.message}` : String(error.message ?? error)) : '';
  $(where).textContent = text;
  state.error = text || null;
}

// MARK: Session (shared with /play through sessionStorage)

async function start(session) {
  if (session) sessionStorage.setItem(STORED, JSON.stringify({ token: port.token, refresh_token: port.refreshToken, player: port.player }));
  $('who').textContent = `${port.player.username}${port.player.operator ? ' · operator' : ' · not an operator'}`;
  $('account').classList.add('hidden');
  for (const id of ['matches-panel', 'server-panel', 'tick-panel', 'traffic-panel', 'watch-panel', 'board-panel', 'chat-panel']) $(id).classList.remove('hidden');
  await refresh();
  setInterval(refresh, 1000);
}

$('login').addEventListener('click', async () => {
  showError('account-error', null);
  try {
    await start(await port.login($('username').value.trim(), $('password').value));
  } catch (error) {
    showError('account-error', error);
  }
});
$('password').addEventListener('keydown', (event) => { if (event.key === 'Enter') $('login').click(); });

async function resume() {
  const stored = JSON.parse(sessionStorage.getItem(STORED) ?? 'null');
  if (!stored?.token) return;
  port.token = stored.token;
  port.refreshToken = stored.refresh_token;
  try {
    port.player = await port.me();
    await start();
  } catch {
    sessionStorage.removeItem(STORED);
    port.token = null;
  }
}

// MARK: Readings over time

/** `{lower_us: count}` of a DurationHistogram's JSON (`{"buckets": [[lower_us, count], …]}`). */
function bucketMap(histogram) {
  const map = new Map();
  for (const [lower, count] of histogram?.buckets ?? []) map.set(lower, count);
  return map;
}

/** The `fraction` percentile (ms) of what `later` recorded after `earlier`; null when nothing. */
function percentileBetween(earlier, later, fraction) {
  const before = bucketMap(earlier);
  const rows = [];
  let total = 0;
  for (const [lower, count] of bucketMap(later)) {
    const added = count - (before.get(lower) ?? 0);
    if (added > 0) { rows.push([lower, added]); total += added; }
  }
  if (total === 0) return null;
  rows.sort((a, b) => a[0] - b[0]);
  const target = Math.ceil(total * fraction);
  let seen = 0;
  for (const [lower, count] of rows) {
    seen += count;
    if (seen >= target) return lower / 1000;
  }
  return rows[rows.length - 1][0] / 1000;
}

const tickSeries = { 'tick p50': [], 'tick p99': [], 'receive p99': [], 'simulate p99': [], 'snapshot+send p99': [] };
const trafficSeries = { 'datagrams in /s': [], 'datagrams out /s': [], 'drops /s': [] };
const SERIES_COLORS = ['#5fb3ff', '#ff6b6b', '#6fdc8c', '#feca57', '#a29bfe'];
let previous = null;

function push(series, name, value) {
  series[name].push(value);
  if (series[name].length > HISTORY) series[name].shift();
}

function record(overview) {
  const server = overview.server;
  if (!server) return;
  const now = Date.parse(overview.generated_at) / 1000;
  if (previous?.server) {
    const seconds = Math.max(0.001, now - previous.at);
    const before = previous.server;
    push(tickSeries, 'tick p50', percentileBetween(before.tick.histogram, server.tick.histogram, 0.5));
    push(tickSeries, 'tick p99', percentileBetween(before.tick.histogram, server.tick.histogram, 0.99));
    push(tickSeries, 'receive p99', percentileBetween(before.tick.phases.receive.histogram, server.tick.phases.receive.histogram, 0.99));
    push(tickSeries, 'simulate p99', percentileBetween(before.tick.phases.simulate.histogram, server.tick.phases.simulate.histogram, 0.99));
    push(tickSeries, 'snapshot+send p99', percentileBetween(before.tick.phases.snapshot_send.histogram, server.tick.phases.snapshot_send.histogram, 0.99));
    push(trafficSeries, 'datagrams in /s', (server.datagrams_in - before.datagrams_in) / seconds);
    push(trafficSeries, 'datagrams out /s', (server.datagrams_out - before.datagrams_out) / seconds);
    const drops = (report) => Object.values(report.drops ?? {}).reduce((sum, value) => sum + value, 0);
    push(trafficSeries, 'drops /s', (drops(server) - drops(before)) / seconds);
  }
  previous = { at: now, server };
}

function drawChart(canvas, legend, series) {
  const context = canvas.getContext('2d');
  context.fillStyle = '#0a0d12';
  context.fillRect(0, 0, canvas.width, canvas.height);
  const names = Object.keys(series);
  let top = 0;
  for (const name of names) for (const value of series[name]) if (value !== null && value > top) top = value;
  top = top > 0 ? top * 1.15 : 1;
  context.strokeStyle = '#1b2431';
  context.fillStyle = '#8a98ab';
  context.font = '11px system-ui, sans-serif';
  for (let step = 0; step <= 4; step++) {
    const y = canvas.height - (step / 4) * (canvas.height - 12) - 4;
    context.beginPath();
    context.moveTo(0, y);
    context.lineTo(canvas.width, y);
    context.stroke();
    context.fillText(((top * step) / 4).toPrecision(3), 4, y - 2);
  }
  names.forEach((name, index) => {
    const values = series[name];
    context.strokeStyle = SERIES_COLORS[index % SERIES_COLORS.length];
    context.lineWidth = 1.5;
    context.beginPath();
    let started = false;
    values.forEach((value, position) => {
      if (value === null) { started = false; return; }
      const x = canvas.width - (values.length - 1 - position) * (canvas.width / (HISTORY - 1));
      const y = canvas.height - (value / top) * (canvas.height - 12) - 4;
      if (started) context.lineTo(x, y); else context.moveTo(x, y);
      started = true;
    });
    context.stroke();
  });
  legend.replaceChildren(...names.map((name, index) => {
    const last = series[name][series[name].length - 1];
    const swatch = element('i', {});
    swatch.style.background = SERIES_COLORS[index % SERIES_COLORS.length];
    return element('span', {}, [swatch, `${name} ${last === null || last === undefined ? '–' : last.toFixed(last < 10 ? 3 : 0)}`]);
  }));
}

// MARK: The overview

function since(iso) {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  return seconds < 120 ? `${seconds.toFixed(0)} s` : `${(seconds / 60).toFixed(0)} min`;
}

const bytes = (value) => (value > 1e9 ? `${(value / 1e9).toFixed(2)} GB` : value > 1e6 ? `${(value / 1e6).toFixed(2)} MB` : `${(value / 1e3).toFixed(1)} kB`);

async function refresh() {
  try {
    const overview = await port.request('GET', '/v1/console/overview');
    state.overview = overview;
    state.refreshes += 1;
    showError('console-error', null);
    render(overview);
  } catch (error) {
    showError('console-error', error);
  }
}

function render(overview) {
  $('instance').textContent = overview.instance_id ? `instance ${overview.instance_id}` : '';
  $('match-summary').textContent = `${overview.matches.length} running · ${overview.players_in_matches} players`;
  $('matches').replaceChildren(...overview.matches.map((match) => element('tr', { 'data-match': match.match_id }, [
    element('td', {}, [`#${match.game_id} ${match.game_name}`, element('span', { class: 'muted' }, [` ${match.visibility}`])]),
    element('td', {}, [String(match.match_id)]),
    element('td', {}, [match.server_address]),
    element('td', {}, [since(match.started_at)]),
    element('td', {}, [match.live
      ? match.players.map((line) => `${line.display_name} ${line.score} (${line.kills}/${line.deaths})`).join(', ') || 'nobody yet'
      : 'not live (ended or lost)']),
    element('td', {}, [match.visibility === 'public'
      ? element('button', { 'data-watch': match.game_id, onclick: () => watch(match) }, ['Watch'])
      : element('span', { class: 'muted', title: 'a private game is watched by its members' }, ['private'])]),
  ])));
  if (overview.matches.length === 0) $('matches').replaceChildren(element('tr', {}, [element('td', { class: 'muted', colspan: 6 }, ['no match is running'])]));

  const server = overview.server;
  if (server) {
    record(overview);
    const tick = server.tick;
    const rows = [
      ['matches', server.matches], ['connected clients', server.connected_clients],
      ['ticks', `${tick.count} (overruns ${tick.overruns})`],
      ['tick p50 / p99 / max', `${tick.p50_ms.toFixed(3)} / ${tick.p99_ms.toFixed(3)} / ${tick.max_ms.toFixed(3)} ms`],
      ['phases p99: receive / simulate / snapshot+send',
        `${tick.phases.receive.p99_ms.toFixed(3)} / ${tick.phases.simulate.p99_ms.toFixed(3)} / ${tick.phases.snapshot_send.p99_ms.toFixed(3)} ms`],
      ['datagrams in / out', `${server.datagrams_in} / ${server.datagrams_out}`],
      ['bytes in / out', `${bytes(server.bytes_in)} / ${bytes(server.bytes_out)}`],
      ['client RTT p50 / p99', `${server.rtt_p50_ms.toFixed(1)} / ${server.rtt_p99_ms.toFixed(1)} ms`],
      ['mean packet loss', `${(server.mean_packet_loss * 100).toFixed(2)} %`],
      ['CPU (process / game threads)', `${server.cpu_seconds.toFixed(1)} s / ${(server.game_thread_cpu_seconds ?? 0).toFixed(1)} s`],
      ['resident memory', bytes(server.resident_memory_bytes)],
    ];
    $('server').replaceChildren(...rows.map(([name, value]) => element('tr', {}, [element('th', {}, [name]), element('td', {}, [String(value)])])));
    const lastDrops = previous?.dropsBefore ?? {};
    $('drops').replaceChildren(...Object.entries(server.drops).sort().map(([reason, count]) => element('tr', {}, [
      element('td', {}, [reason]), element('td', {}, [String(count)]), element('td', {}, [String(count - (lastDrops[reason] ?? count))]),
    ])));
    previous.dropsBefore = { ...server.drops };
    drawChart($('tick-chart'), $('tick-legend'), tickSeries);
    drawChart($('traffic-chart'), $('traffic-legend'), trafficSeries);
  } else {
    $('server').replaceChildren(element('tr', {}, [element('td', { class: 'muted' }, ['no game server runs in this process'])]));
  }

  $('leaderboard').replaceChildren(...overview.leaderboard.map((entry) => element('tr', {}, [
    element('td', {}, [String(entry.rank)]), element('td', {}, [entry.player_name]), element('td', {}, [String(entry.score)]),
  ])));
  $('recent-chat').replaceChildren(...overview.recent_chat.map((message) => element('tr', {}, [
    element('td', { class: 'muted' }, [new Date(message.sent_at).toLocaleTimeString()]),
    element('td', {}, [message.sender_name]), element('td', {}, [message.body]),
  ])));
}

// MARK: The spectator view: a spectator's token for the match (no seat, no player of our own)

const view = { client: null, stop: null, game: null };

async function watch(match) {
  stopWatching();
  try {
    const game = await port.game(match.game_id);
    const watching = await port.watch(match.game_id);
    const client = ArbiterClient.connect(port.playURL(watching), { settings: game.settings });
    client.spectate();
    view.client = client;
    view.game = game;
    view.stop = client.startTicking(() => undefined);
    state.watching = match.game_id;
    $('watch-title').textContent = `Watching #${game.id} ${game.name}`;
    $('stop-watching').classList.remove('hidden');
  } catch (error) {
    showError('console-error', error);
  }
}

function stopWatching() {
  if (!view.client) return;
  view.stop?.();
  view.client.disconnect();
  Object.assign(view, { client: null, stop: null, game: null });
  Object.assign(state, { watching: null, connected: false, snapshots: 0 });
  $('watch-title').textContent = 'Spectator view';
  $('stop-watching').classList.add('hidden');
}
$('stop-watching').addEventListener('click', stopWatching);

function draw() {
  const canvas = $('arena');
  const { client } = view;
  const frame = client ? client.frame() : null;
  drawArena(canvas.getContext('2d'), canvas, arenaMap(view.game?.settings.map ?? 'default'), frame);
  if (client) {
    state.snapshots = client.simulation.snapshotsReceived;
    state.connected = client.state === 'open' && state.snapshots > 0;
    state.entities = frame.latest.length;
    $('watch-state').textContent = client.state === 'open' ? 'watching' : client.state;
    $('watch-snapshots').textContent = String(state.snapshots);
    $('watch-rtt').textContent = `${(client.roundTripTime * 1000).toFixed(1)} ms`;
  }
  requestAnimationFrame(draw);
}
requestAnimationFrame(draw);

resume();
