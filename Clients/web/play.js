// The /play page: an account, the lobby (public games, create, join, watch, invites), chat over
// /v1/chat, and the arena on a canvas, drawn at the display's frame rate from the JS client's
// prediction and interpolation. Its own state is in window.arbiterState (for people and tests).

import { ArbiterClient, ControlPort, ControlPortError, FIRE_HITSCAN, FIRE_PROJECTILE, UNIT, arenaInput, arenaMap } from '/js/arbiter.js';
import { ChatSocket, drawArena, element } from '/web/shared.js';

const port = new ControlPort(location.origin);
const $ = (id) => document.getElementById(id);

/** What the page shows and does now; mirrored into window.arbiterState every frame. */
const page = {
  client: null,
  stopTicking: null,
  game: null,
  join: null,
  spectating: false,
  chat: null,
  channel: 'lobby',
  chatReceived: [],
  frames: 0,
  fps: 0,
  lastDrawn: null,
  scoreboard: [],
};

const state = {
  connected: false,
  state: 'idle',
  player: null,
  gameID: null,
  matchID: null,
  spectating: false,
  position: null,
  canvasPosition: null,
  snapshots: 0,
  snapshotRate: 0,
  rttMs: null,
  lossPercent: null,
  correction: null,
  entities: 0,
  frames: 0,
  chatMessages: [],
  chatOpen: false,
  closeCode: null,
  finalStandings: null,
};
window.arbiterState = state;

function showError(where, error) {
  $(where).textContent = error ? (error instanceof ControlPortError ? `${error.code}: ${error.message}` : String(error.message ?? error)) : '';
}

// MARK: Account

const STORED = 'arbiter.session';

function signedIn(session) {
  sessionStorage.setItem(STORED, JSON.stringify({ token: port.token, refresh_token: port.refreshToken, player: port.player }));
  state.player = port.player?.username ?? null;
  $('who').textContent = `${port.player.display_name || port.player.username}${port.player.operator ? ' · operator' : ''}`;
  $('account').classList.add('hidden');
  $('lobby').classList.remove('hidden');
  $('logout').classList.remove('hidden');
  showError('account-error', null);
  openChat();
  refreshLobby();
  return session;
}

async function withAccount(action) {
  showError('account-error', null);
  try {
    signedIn(await action({ username: $('username').value.trim(), password: $('password').value, email: $('email').value.trim() }));
  } catch (error) {
    showError('account-error', error);
  }
}

$('login').addEventListener('click', () => withAccount(({ username, password }) => port.login(username, password)));
$('register').addEventListener('click', () => withAccount(({ username, password, email }) => port.register({ username, password, email })));
$('password').addEventListener('keydown', (event) => { if (event.key === 'Enter') $('login').click(); });
$('logout').addEventListener('click', async () => {
  await leaveMatch();
  try { await port.logout(); } catch { /* the session is gone either way */ }
  sessionStorage.removeItem(STORED);
  location.reload();
});

async function resume() {
  const stored = JSON.parse(sessionStorage.getItem(STORED) ?? 'null');
  if (!stored?.token) return;
  port.token = stored.token;
  port.refreshToken = stored.refresh_token;
  try {
    port.player = await port.me();
    signedIn();
  } catch {
    sessionStorage.removeItem(STORED);
    port.token = null;
  }
}

// MARK: Lobby

async function refreshLobby() {
  if (!port.token) return;
  try {
    const [list, invites] = await Promise.all([port.listGames({ limit: 50 }), port.invites()]);
    renderGames(list.games);
    renderInvites(invites.invites);
    showError('lobby-error', null);
  } catch (error) {
    showError('lobby-error', error);
  }
}

function renderGames(games) {
  const list = $('games');
  list.replaceChildren(...games.map((game) => element('li', {}, [
    element('span', { class: 'name', title: game.name }, [`#${game.id} ${game.name}`]),
    element('span', { class: 'muted' }, [`${game.member_count}/${game.settings.max_players} · ${game.settings.map}`]),
    element('button', { 'data-play': game.id, onclick: () => enterMatch(game.id, { watch: false }) }, ['Play']),
    element('button', { 'data-watch': game.id, onclick: () => enterMatch(game.id, { watch: true }) }, ['Watch']),
  ])));
  if (games.length === 0) list.replaceChildren(element('li', { class: 'muted' }, ['no open public games: create one']));
}

function renderInvites(invites) {
  const list = $('invites');
  list.replaceChildren(...invites.map((invite) => element('li', {}, [
    element('span', { class: 'name' }, [`${invite.inviter_name} → ${invite.game_name}`]),
    element('button', {
      onclick: async () => {
        try {
          await port.acceptInvite(invite.id);
          await enterMatch(invite.game_id, { watch: false });
        } catch (error) { showError('lobby-error', error); }
      },
    }, ['Accept']),
    element('button', { onclick: async () => { await port.declineInvite(invite.id).catch(() => {}); refreshLobby(); } }, ['Decline']),
  ])));
  if (invites.length === 0) list.replaceChildren(element('li', { class: 'muted' }, ['no invites']));
}

$('refresh-games').addEventListener('click', refreshLobby);
$('create-game').addEventListener('click', async () => {
  showError('lobby-error', null);
  try {
    const name = $('game-name').value.trim() || `${port.player.username}'s arena`;
    const game = await port.createGame({ name, settings: { map: $('game-map').value, visibility: $('game-visibility').value } });
    state.createdGameID = game.id;
    await refreshLobby();
    if (game.settings.visibility === 'private') await enterMatch(game.id, { watch: false });
  } catch (error) {
    showError('lobby-error', error);
  }
});
$('invite').addEventListener('click', async () => {
  if (!page.game) return;
  try {
    await port.invite(page.game.id, { username: $('invite-username').value.trim() });
    $('invite-username').value = '';
    showError('lobby-error', null);
  } catch (error) { showError('lobby-error', error); }
});
$('leave').addEventListener('click', () => leaveMatch());

// MARK: The match

async function enterMatch(gameID, { watch }) {
  showError('lobby-error', null);
  await leaveMatch();
  try {
    const game = await port.game(gameID);
    // Watching takes no seat: a spectator's token (the match must be running).
    const join = watch ? await port.watch(gameID) : await port.join(gameID);
    page.game = game;
    page.join = join;
    page.spectating = watch;
    const client = ArbiterClient.connect(port.playURL(join), { settings: game.settings });
    if (watch) client.spectate();
    page.client = client;
    page.stopTicking = client.startTicking(currentInput);
    state.gameID = game.id;
    state.matchID = join.match_id;
    state.spectating = watch;
    state.finalStandings = null;
    $('arena-title').textContent = `${watch ? 'Watching' : 'Playing'} #${game.id} ${game.name}`;
    $('match-actions').classList.remove('hidden');
    // A bot joins on a device account of its own, from a terminal beside the server.
    $('bot-command').textContent = `arbiter play --control ${location.origin} --game ${game.id} --bot`;
    $('bot-hint').classList.toggle('hidden', watch);
    $('final-standings').textContent = '';
    setChannel(`game:${game.id}`);
    $('arena').focus();
  } catch (error) {
    showError('lobby-error', error);
  }
}

async function leaveMatch() {
  const { client } = page;
  if (!client) return;
  page.stopTicking?.();
  client.disconnect();
  page.client = null;
  page.game = null;
  page.stopTicking = null;
  Object.assign(state, { connected: false, gameID: null, matchID: null, position: null, canvasPosition: null, state: 'idle' });
  $('arena-title').textContent = 'Arena';
  $('match-actions').classList.add('hidden');
  $('bot-hint').classList.add('hidden');
  setChannel('lobby');
  refreshLobby();
}

// Keyboard and mouse: held keys move, the pointer aims, buttons fire.
const held = new Set();
const pointer = { x: null, y: null, buttons: 0 };
const MOVE_KEYS = { KeyW: [0, -1], ArrowUp: [0, -1], KeyS: [0, 1], ArrowDown: [0, 1], KeyA: [-1, 0], ArrowLeft: [-1, 0], KeyD: [1, 0], ArrowRight: [1, 0] };

function typing(event) { return event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement; }
addEventListener('keydown', (event) => {
  if (typing(event)) return;
  if (event.code === 'Escape') { leaveMatch(); return; }
  if (MOVE_KEYS[event.code] || event.code === 'Space') {
    held.add(event.code);
    if (page.client) event.preventDefault();
  }
});
addEventListener('keyup', (event) => held.delete(event.code));
addEventListener('blur', () => { held.clear(); pointer.buttons = 0; });
const canvas = $('arena');
canvas.addEventListener('mousemove', (event) => {
  const box = canvas.getBoundingClientRect();
  pointer.x = ((event.clientX - box.left) / box.width) * canvas.width;
  pointer.y = ((event.clientY - box.top) / box.height) * canvas.height;
});
canvas.addEventListener('mousedown', (event) => { pointer.buttons |= event.button === 2 ? FIRE_PROJECTILE : FIRE_HITSCAN; canvas.focus(); });
addEventListener('mouseup', (event) => { pointer.buttons &= ~(event.button === 2 ? FIRE_PROJECTILE : FIRE_HITSCAN); });
canvas.addEventListener('contextmenu', (event) => event.preventDefault());

function currentInput() {
  let dx = 0;
  let dy = 0;
  for (const code of held) {
    const direction = MOVE_KEYS[code];
    if (direction) { dx += direction[0]; dy += direction[1]; }
  }
  let aim = page.lastAim ?? 0;
  const local = page.lastDrawn;
  if (local && pointer.x !== null) {
    const angle = Math.atan2(pointer.y - local.y, pointer.x - local.x);
    aim = Math.round((angle / (2 * Math.PI)) * 65536) & 0xffff;
  }
  page.lastAim = aim;
  const buttons = pointer.buttons | (held.has('Space') ? FIRE_PROJECTILE : 0);
  return arenaInput({ moveX: Math.sign(dx) * 127, moveY: Math.sign(dy) * 127, aim, buttons });
}

// MARK: Drawing, at the display's rate

let snapshotsAtLastSecond = 0;
let secondStartedAt = performance.now();
let framesThisSecond = 0;

function draw(now) {
  const context = canvas.getContext('2d');
  const { client } = page;
  const frame = client ? client.frame() : null;
  const map = arenaMap(page.game?.settings.map ?? 'default');
  const drawn = drawArena(context, canvas, map, frame);
  page.lastDrawn = drawn.local;
  framesThisSecond += 1;
  if (now - secondStartedAt >= 1000) {
    const seconds = (now - secondStartedAt) / 1000;
    page.fps = framesThisSecond / seconds;
    const snapshots = client?.simulation.snapshotsReceived ?? 0;
    state.snapshotRate = Math.max(0, (snapshots - snapshotsAtLastSecond) / seconds);
    snapshotsAtLastSecond = snapshots;
    framesThisSecond = 0;
    secondStartedAt = now;
  }
  state.frames += 1;
  if (client) {
    const simulation = client.simulation;
    state.state = client.state === 'open' ? (page.spectating ? 'watching' : 'playing') : client.state;
    state.snapshots = simulation.snapshotsReceived;
    state.connected = client.state === 'open' && simulation.snapshotsReceived > 0;
    state.rttMs = client.roundTripTime * 1000;
    state.lossPercent = client.packetLoss * 100;
    state.correction = simulation.lastCorrection;
    state.entities = frame.latest.length;
    state.position = frame.local ? { x: frame.local.x / UNIT, y: frame.local.y / UNIT, alive: (frame.local.flags & 1) === 1 } : null;
    state.canvasPosition = drawn.local;
    state.closeCode = client.transport.closeCode;
    if (client.finalStandings && !state.finalStandings) showFinalStandings(client.finalStandings);
  }
  $('hud-state').textContent = state.state + (state.closeCode ? ` (${state.closeCode})` : '');
  $('hud-rtt').textContent = state.rttMs === null || !client ? '–' : `${state.rttMs.toFixed(1)} ms`;
  $('hud-loss').textContent = state.lossPercent === null || !client ? '–' : `${state.lossPercent.toFixed(1)} %`;
  $('hud-correction').textContent = state.correction === null || !client ? '–' : `${state.correction.toFixed(3)} u`;
  $('hud-snapshots').textContent = String(state.snapshots);
  $('hud-rate').textContent = client ? `${state.snapshotRate.toFixed(0)} /s` : '–';
  $('hud-fps').textContent = page.fps ? page.fps.toFixed(0) : '–';
  requestAnimationFrame(draw);
}
requestAnimationFrame(draw);

function showFinalStandings(standings) {
  state.finalStandings = standings;
  const lines = (standings.lines ?? standings.standings ?? []).map((line, index) => `${index + 1}. ${line.displayName ?? line.display_name ?? line.playerID} ${line.score}`);
  $('final-standings').textContent = `match over: ${lines.join(' · ')}`;
}

// The scoreboard: the control port's live one (names and scores), once a second.
async function refreshScoreboard() {
  if (page.game && port.token) {
    try {
      const board = await port.scoreboard(page.game.id);
      page.scoreboard = board.scores;
      $('scoreboard').replaceChildren(...board.scores.map((line) => element('tr', {}, [
        element('td', {}, [line.display_name]), element('td', {}, [String(line.score)]),
        element('td', {}, [String(line.kills)]), element('td', {}, [String(line.deaths)]),
      ])));
    } catch { /* shown again on the next pass */ }
  } else if (page.scoreboard.length) {
    page.scoreboard = [];
    $('scoreboard').replaceChildren();
  }
}
setInterval(refreshScoreboard, 1000);
setInterval(() => { if (!page.client) refreshLobby(); }, 5000);

// MARK: Chat

function openChat() {
  page.chat?.close();
  page.chat = new ChatSocket(port.chatURL(), {
    onMessage: (message) => {
      if (message.type !== 'message') return;
      state.chatMessages.push({ channel: message.channel, from: message.sender_name, body: message.body });
      if (state.chatMessages.length > 200) state.chatMessages.splice(0, state.chatMessages.length - 200);
      if (message.channel === page.channel || (page.channel === 'lobby' && message.channel === 'lobby')) appendChat(message);
    },
    onOpen: (socket) => {
      state.chatOpen = true;
      socket.join(page.channel);
    },
    onClose: () => { state.chatOpen = false; },
  });
}

function setChannel(channel) {
  const previous = page.channel;
  page.channel = channel;
  $('chat-channel').textContent = channel;
  $('chat-log').replaceChildren();
  if (page.chat) {
    if (previous !== 'lobby' && previous !== channel) page.chat.leave(previous);
    page.chat.join(channel);
  }
  if (port.token) {
    port.chatHistory(channel, { limit: 30 }).then((history) => {
      for (const message of history.messages.reverse()) appendChat(message);
    }).catch(() => {});
  }
}

function appendChat(message) {
  const log = $('chat-log');
  log.append(element('div', {}, [element('span', { class: 'from' }, [message.sender_name]), ` ${message.body}`]));
  log.scrollTop = log.scrollHeight;
}

function sendChat() {
  const body = $('chat-input').value.trim();
  if (!body || !page.chat) return;
  page.chat.send(page.channel, body);
  $('chat-input').value = '';
}
$('chat-send').addEventListener('click', sendChat);
$('chat-input').addEventListener('keydown', (event) => { if (event.key === 'Enter') sendChat(); });

resume();
