// What /play and /console share: building elements, the chat socket, and drawing the arena.

import { EntityKind, HALF_SIZE, UNIT } from '/js/arbiter.js';

/**
 * `tag` with attributes (`on…` ones as listeners) and children (strings become text nodes,
 * never markup: chat bodies and names come from other players).
 */
export function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/**
 * The control port's chat WebSocket (`/v1/chat?token=…`): JSON commands `join`, `leave` and
 * `send`; every frame it sends is handed to `onMessage` parsed. Reconnects (after 2 s) while the
 * page wants it open.
 */
export class ChatSocket {
  constructor(url, { onMessage = () => {}, onOpen = () => {}, onClose = () => {} } = {}) {
    this.url = url;
    this.onMessage = onMessage;
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.channels = new Set();
    this.closed = false;
    this.open = false;
    this.connect();
  }

  connect() {
    this.socket = new WebSocket(this.url);
    this.socket.onopen = () => {
      this.open = true;
      for (const channel of this.channels) this.command({ type: 'join', channel });
      this.onOpen(this);
    };
    this.socket.onmessage = (event) => {
      try {
        this.onMessage(JSON.parse(event.data));
      } catch {
        // Not JSON: not part of the protocol.
      }
    };
    this.socket.onclose = () => {
      this.open = false;
      this.onClose(this);
      if (!this.closed) setTimeout(() => { if (!this.closed) this.connect(); }, 2000);
    };
  }

  command(object) { if (this.open) this.socket.send(JSON.stringify(object)); }
  join(channel) {
    if (!this.channels.has(channel)) this.channels.add(channel);
    this.command({ type: 'join', channel });
  }
  leave(channel) {
    this.channels.delete(channel);
    this.command({ type: 'leave', channel });
  }
  send(channel, body) { this.command({ type: 'send', channel, body }); }
  close() {
    this.closed = true;
    this.socket.close();
  }
}

const COLORS = ['#ff9f43', '#ee5253', '#a29bfe', '#48dbfb', '#feca57', '#ff6b81', '#1dd1a1', '#c8d6e5'];

/**
 * Draws the map and `frame` (ArbiterClient.frame(): local predicted, remote interpolated) on
 * `canvas`, fitted to it. Returns where the local player was drawn, in canvas pixels (null
 * when there is none: spectating, or not yet in the world).
 */
export function drawArena(context, canvas, map, frame) {
  const scale = Math.min(canvas.width / map.width, canvas.height / map.height);
  const offsetX = (canvas.width - map.width * scale) / 2;
  const offsetY = (canvas.height - map.height * scale) / 2;
  const toX = (x) => offsetX + x * scale;
  const toY = (y) => offsetY + y * scale;
  context.fillStyle = '#0a0d12';
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = '#131a24';
  context.fillRect(toX(0), toY(0), map.width * scale, map.height * scale);
  // The grid: one line every four units.
  context.strokeStyle = '#1b2431';
  context.lineWidth = 1;
  context.beginPath();
  for (let x = 0; x <= map.width; x += 4 * UNIT) { context.moveTo(toX(x), toY(0)); context.lineTo(toX(x), toY(map.height)); }
  for (let y = 0; y <= map.height; y += 4 * UNIT) { context.moveTo(toX(0), toY(y)); context.lineTo(toX(map.width), toY(y)); }
  context.stroke();
  context.fillStyle = '#3b4a60';
  for (const wall of map.walls) {
    const minX = Math.max(0, wall.minX);
    const minY = Math.max(0, wall.minY);
    const maxX = Math.min(map.width, wall.maxX);
    const maxY = Math.min(map.height, wall.maxY);
    if (maxX > minX && maxY > minY) context.fillRect(toX(minX), toY(minY), (maxX - minX) * scale, (maxY - minY) * scale);
  }
  if (!frame) {
    context.fillStyle = '#8a98ab';
    context.font = '20px system-ui, sans-serif';
    context.textAlign = 'center';
    context.fillText('join or watch a game from the lobby', canvas.width / 2, canvas.height / 2);
    return { local: null };
  }
  const size = HALF_SIZE * 2 * scale;
  const drawPlayer = (entity, color, outline) => {
    const x = toX(entity.x);
    const y = toY(entity.y);
    const alive = (entity.flags & 1) === 1;
    context.globalAlpha = alive ? 1 : 0.35;
    context.fillStyle = color;
    context.fillRect(x - size / 2, y - size / 2, size, size);
    if (outline) {
      context.strokeStyle = '#ffffff';
      context.lineWidth = 2;
      context.strokeRect(x - size / 2, y - size / 2, size, size);
    }
    // The aim: 0 is +x, 16384 is +y.
    const angle = (entity.aim / 65536) * 2 * Math.PI;
    context.strokeStyle = color;
    context.lineWidth = 2;
    context.beginPath();
    context.moveTo(x, y);
    context.lineTo(x + Math.cos(angle) * size * 1.4, y + Math.sin(angle) * size * 1.4);
    context.stroke();
    context.globalAlpha = 1;
    return { x, y };
  };
  for (const entity of frame.remote) {
    if (entity.kind === EntityKind.projectile) {
      context.fillStyle = '#fff3a0';
      context.beginPath();
      context.arc(toX(entity.x), toY(entity.y), Math.max(2, size / 5), 0, 2 * Math.PI);
      context.fill();
    } else {
      drawPlayer(entity, COLORS[entity.id % COLORS.length], false);
    }
  }
  const local = frame.local ? drawPlayer(frame.local, '#6fdc8c', true) : null;
  return { local };
}
