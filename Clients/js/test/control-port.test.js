import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { ControlPort, ControlPortError } from '../arbiter.js';

/** A stand-in control port on a loopback port: records each request and answers from `routes`. */
async function withServer(routes, body) {
  const requests = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => { text += chunk; });
    request.on('end', () => {
      const url = new URL(request.url, 'http://localhost');
      requests.push({ method: request.method, path: url.pathname, query: url.search, headers: request.headers, body: text ? JSON.parse(text) : null });
      const answer = routes[`${request.method} ${url.pathname}`] ?? [404, { error: { code: 'not_found', message: 'no such route' } }];
      response.writeHead(answer[0], { 'Content-Type': 'application/json' });
      response.end(answer[1] === null ? '' : JSON.stringify(answer[1]));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body(`http://127.0.0.1:${server.address().port}`, requests);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const session = { token: 'abc', refresh_token: 'r1', expires_at: '2030-01-01T00:00:00Z', player: { id: 7, username: 'ada' } };

test('the control-port helper speaks the REST routes with the session token', async () => {
  const join = { server_address: '127.0.0.1:40000', connect_token: 'A+B/C==', client_id: 7, match_id: 3, game_session_id: 1, expires_at: 'x' };
  await withServer({
    'POST /v1/accounts': [201, session],
    'POST /v1/games': [201, { id: 12, name: 'Friday' }],
    'GET /v1/games': [200, { games: [] }],
    'POST /v1/games/12/join': [200, join],
    'POST /v1/games/12/leave': [204, null],
    'POST /v1/games/12/watch': [200, { ...join, client_id: 9223372036854775809 }],
    'POST /v1/sessions': [401, { error: { code: 'invalid_credentials', message: 'unknown username or wrong password' } }],
  }, async (base, requests) => {
    const port = new ControlPort(`${base}/`);
    await port.register({ username: 'ada', email: 'ada@example.com', password: 'correct horse', displayName: 'Ada' });
    assert.equal(port.token, 'abc');
    assert.equal(port.player.id, 7);
    assert.deepEqual(requests[0].body, { username: 'ada', email: 'ada@example.com', password: 'correct horse', display_name: 'Ada' });
    assert.equal(requests[0].headers.authorization, undefined);
    const game = await port.createGame({ name: 'Friday', settings: { max_players: 4, map: 'empty' } });
    assert.equal(game.id, 12);
    assert.equal(requests[1].headers.authorization, 'Bearer abc');
    assert.deepEqual(requests[1].body, { name: 'Friday', settings: { max_players: 4, map: 'empty' } });
    await port.listGames({ limit: 5 });
    assert.equal(requests[2].query, '?limit=5');
    const answer = await port.join(12);
    assert.equal(await port.leave(12), null);
    const watching = await port.watch(12);
    assert.equal(watching.connect_token, join.connect_token);
    assert.equal(requests.at(-1).headers.authorization, 'Bearer abc');
    assert.equal(port.playURL(answer), `ws://127.0.0.1:${new URL(base).port}/v1/play?token=A%2BB%2FC%3D%3D`);
    assert.equal(port.playURL({ ...answer, websocket_url: 'wss://game.example:9000/v1/play' }), 'wss://game.example:9000/v1/play?token=A%2BB%2FC%3D%3D');
    assert.equal(port.playURL({ ...answer, websocket_url: 'ws://h/v1/play?token=given' }), 'ws://h/v1/play?token=given');
    await assert.rejects(port.login('ada', 'wrong'), (error) => error instanceof ControlPortError && error.status === 401
      && error.code === 'invalid_credentials');
  });
});
