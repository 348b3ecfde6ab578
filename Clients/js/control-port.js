// A thin client of the control port's REST API (docs: GET /openapi.json): accounts, sessions,
// games, invites, joining, scoreboards and chat history. JSON both ways; every error answer is
// `{ "error": { "code", "message" } }` and is thrown as a ControlPortError.

export class ControlPortError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ControlPortError';
    this.status = status;
    this.code = code;
  }
}

export class ControlPort {
  /**
   * `baseURL`: the control port, e.g. `http://127.0.0.1:8080` (a page passes its own origin);
   * `token`: a session token to start with; `fetchImpl`: the fetch to use.
   */
  constructor(baseURL, { token = null, fetchImpl = globalThis.fetch.bind(globalThis) } = {}) {
    this.baseURL = String(baseURL).replace(/\/+$/, '');
    this.token = token;
    this.refreshToken = null;
    this.player = null;
    this.fetch = fetchImpl;
  }

  async request(method, path, { body, query, auth = true } = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (auth && this.token) headers.Authorization = `Bearer ${this.token}`;
    let url = this.baseURL + path;
    if (query) {
      const parameters = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null) parameters.set(key, String(value));
      const text = parameters.toString();
      if (text) url += `?${text}`;
    }
    const response = await this.fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let json = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (!response.ok) {
      const error = json?.error;
      throw new ControlPortError(response.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${response.status}`);
    }
    return json;
  }

  /** Keeps the session an answer carries (token, refresh token, player). */
  adopt(session) {
    this.token = session.token;
    this.refreshToken = session.refresh_token ?? this.refreshToken;
    this.player = session.player;
    return session;
  }

  // Accounts and sessions.
  async register({ username, email, password, displayName }) {
    const body = { username, email, password };
    if (displayName !== undefined) body.display_name = displayName;
    return this.adopt(await this.request('POST', '/v1/accounts', { body, auth: false }));
  }
  async login(username, password) {
    return this.adopt(await this.request('POST', '/v1/sessions', { body: { username, password }, auth: false }));
  }
  async deviceLogin(deviceID) {
    return this.adopt(await this.request('POST', '/v1/accounts/device', { body: { device_id: deviceID }, auth: false }));
  }
  async refresh(refreshToken = this.refreshToken) {
    return this.adopt(await this.request('POST', '/v1/sessions/refresh', { body: { refresh_token: refreshToken }, auth: false }));
  }
  async logout() {
    await this.request('DELETE', '/v1/sessions/current');
    this.token = null;
    this.refreshToken = null;
    this.player = null;
  }
  me() { return this.request('GET', '/v1/me'); }

  // Games.
  /** `settings` uses the API's snake_case names (max_players, tick_rate, visibility, map, ...). */
  createGame({ name, description, settings }) {
    const body = { name };
    if (description !== undefined) body.description = description;
    if (settings !== undefined) body.settings = settings;
    return this.request('POST', '/v1/games', { body });
  }
  listGames({ limit, cursor } = {}) { return this.request('GET', '/v1/games', { query: { limit, cursor } }); }
  game(id) { return this.request('GET', `/v1/games/${encodeURIComponent(id)}`); }
  closeGame(id) { return this.request('POST', `/v1/games/${encodeURIComponent(id)}/close`); }
  /** A connect token for the game's match: `{ server_address, connect_token, expires_at, client_id, match_id, ... }`. */
  join(id) { return this.request('POST', `/v1/games/${encodeURIComponent(id)}/join`); }
  /** A spectator's connect token for the running match (no seat taken): the same shape as join's; 409 `no_match` when none runs. */
  watch(id) { return this.request('POST', `/v1/games/${encodeURIComponent(id)}/watch`); }
  leave(id) { return this.request('POST', `/v1/games/${encodeURIComponent(id)}/leave`); }
  scoreboard(id) { return this.request('GET', `/v1/games/${encodeURIComponent(id)}/scoreboard`); }

  // Invites.
  invite(gameID, { username, playerID }) {
    const body = username !== undefined ? { username } : { player_id: playerID };
    return this.request('POST', `/v1/games/${encodeURIComponent(gameID)}/invites`, { body });
  }
  invites({ limit, cursor } = {}) { return this.request('GET', '/v1/invites', { query: { limit, cursor } }); }
  acceptInvite(id) { return this.request('POST', `/v1/invites/${encodeURIComponent(id)}/accept`); }
  declineInvite(id) { return this.request('POST', `/v1/invites/${encodeURIComponent(id)}/decline`); }

  // Boards and chat.
  leaderboard(board, { limit, cursor, around } = {}) {
    return this.request('GET', `/v1/leaderboards/${encodeURIComponent(board)}`, { query: { limit, cursor, around } });
  }
  chatHistory(channel, { limit, before } = {}) {
    return this.request('GET', `/v1/chat/${encodeURIComponent(channel)}/messages`, { query: { limit, before } });
  }

  /**
   * The WebSocket URL to play a joined match over: the join answer's `websocket_url` when it
   * names one (a standalone game server), else `/v1/play` on this control port; the connect
   * token goes in the `token` query parameter unless the URL carries one already.
   */
  playURL(join) {
    const base = new URL(this.baseURL);
    const fallback = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}/v1/play`;
    const url = new URL(join.websocket_url ?? fallback, fallback);
    if (!url.searchParams.has('token')) url.searchParams.set('token', join.connect_token);
    return url.toString();
  }

  /** The chat WebSocket URL (a browser cannot set headers: the token goes in the query). */
  chatURL() {
    const base = new URL(this.baseURL);
    const url = new URL(`${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}/v1/chat`);
    url.searchParams.set('token', this.token ?? '');
    return url.toString();
  }
}
