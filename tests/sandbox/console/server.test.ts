/**
 * The console's HTTP surface, over real sockets with stub data: the page, its script and style under a
 * strict policy, the state as JSON, the two actions, and the guards that keep other web pages (and
 * other machines) away from a server holding codes.
 */
import { expect } from 'chai';
import os from 'node:os';
import { SandboxConsole, type ConsoleActions } from '../../../sandbox/console/server.ts';
import type { ConsoleState } from '../../../sandbox/console/state.ts';
import { rawRequest as send } from '../../fixtures/http.ts';

const STATE: ConsoleState = {
  generatedAt: '2026-05-01T12:00:00.000Z',
  info: { stackName: 's', region: 'us-east-1', deliveryMode: 'custom-senders', cognito: { endpoint: 'http://127.0.0.1:9229', userPoolId: 'us-east-1_pool', clientId: 'c', legacyUserPoolId: '' }, lockout: { maxAttempts: 5, windowSeconds: 900, lockSeconds: 300 } },
  messages: [{ id: 'SendGrid:1', via: 'SendGrid', channel: 'email', to: 'frodo@gmail.com', from: 'no-reply@example.com', text: 'Confirmation code: 123456', at: '2026-05-01T11:59:00.000Z', code: { label: 'Confirmation code', value: '123456' } }],
  users: [],
  otherLogins: [],
  executions: [],
};

describe('sandbox console server', function () {
  this.timeout(30_000);
  let server: SandboxConsole;
  const done: Array<[string, string]> = [];
  const actions: ConsoleActions = {
    skipWait: async (arn) => (done.push(['skipWait', arn]), arn === 'arn:held'),
    clearLock: async (login) => (done.push(['clearLock', login]), true),
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    send(server.url, { method: 'POST', path, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  before(async () => {
    server = new SandboxConsole({ snapshot: async () => STATE }, actions);
    await server.start();
  });
  after(() => server.stop());
  beforeEach(() => (done.length = 0));

  it('listens on 127.0.0.1 and names its page http://127.0.0.1:<port>/', async () => {
    expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const port = new URL(server.url).port;
    const others = Object.values(os.networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4' && !i.internal)
      .map((i) => i!.address);
    for (const address of others) {
      const error = await send(`http://${address}:${port}/`).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(error?.code, `reachable on ${address}`).to.equal('ECONNREFUSED');
    }
  });

  it('serves the page, its script and its style under a policy that allows nothing but themselves', async () => {
    const page = await send(server.url);
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(page.body).to.include('<script src="console.js" defer></script>').and.include('href="console.css"');
    expect(page.headers['content-security-policy']).to.include("default-src 'none'").and.include("script-src 'self'").and.include("frame-ancestors 'none'");
    expect(page.headers).to.include({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    const script = await send(server.url, { path: '/console.js' });
    expect(script.status).to.equal(200);
    expect(script.headers['content-type']).to.equal('text/javascript; charset=utf-8');
    expect(script.body, 'bundled: no import left for the browser to resolve').to.include('api/state').and.not.match(/^import /m);
    expect((await send(server.url, { path: '/console.css' })).headers['content-type']).to.equal('text/css; charset=utf-8');
    expect((await send(server.url, { path: '/nothing' })).status).to.equal(404);
  });

  it('answers the state as JSON', async () => {
    const answer = await send(server.url, { path: '/api/state' });
    expect(answer.status).to.equal(200);
    expect(answer.headers['content-type']).to.equal('application/json');
    expect(JSON.parse(answer.body)).to.deep.equal(STATE);
  });

  it('answers at localhost too, and refuses a request addressed to any other host name (DNS rebinding)', async () => {
    const port = new URL(server.url).port;
    expect((await send(server.url, { path: '/api/state', headers: { host: `localhost:${port}` } })).status).to.equal(200);
    for (const host of [`evil.example:${port}`, `127.0.0.1.nip.io:${port}`, 'localhost:1']) {
      const answer = await send(server.url, { path: '/api/state', headers: { host } });
      expect(answer.status, host).to.equal(421);
      expect(answer.body, host).to.not.include('123456');
    }
  });

  it('runs an action posted as JSON from its own page, and says whether there was anything to do', async () => {
    const origin = server.url.replace(/\/$/, '');
    const skipped = await post('/api/skip-wait', { executionArn: 'arn:held' }, { origin, 'sec-fetch-site': 'same-origin' });
    expect([skipped.status, JSON.parse(skipped.body)]).to.deep.equal([200, { done: true }]);
    const nothing = await post('/api/skip-wait', { executionArn: 'arn:finished' });
    expect(JSON.parse(nothing.body)).to.deep.equal({ done: false });
    expect(JSON.parse((await post('/api/clear-lock', { login: 'frodo@gmail.com' })).body)).to.deep.equal({ done: true });
    expect(done).to.deep.equal([
      ['skipWait', 'arn:held'],
      ['skipWait', 'arn:finished'],
      ['clearLock', 'frodo@gmail.com'],
    ]);
  });

  it('refuses actions another web page could send: a form post, a foreign origin, a cross-site fetch', async () => {
    const form = await send(server.url, { method: 'POST', path: '/api/clear-lock', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'login=frodo%40gmail.com' });
    expect(form.status).to.equal(403);
    expect((await post('/api/clear-lock', { login: 'frodo@gmail.com' }, { origin: 'https://evil.example' })).status).to.equal(403);
    expect((await post('/api/clear-lock', { login: 'frodo@gmail.com' }, { origin: 'http://localhost:1' })).status).to.equal(403);
    expect((await post('/api/clear-lock', { login: 'frodo@gmail.com' }, { 'sec-fetch-site': 'cross-site' })).status).to.equal(403);
    const preflight = await send(server.url, { method: 'OPTIONS', path: '/api/clear-lock', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.headers, 'no CORS grant').to.not.have.property('access-control-allow-origin');
    expect(done, 'no action ran').to.deep.equal([]);
  });

  it('refuses an action without its field or without JSON', async () => {
    expect((await post('/api/skip-wait', {})).status).to.equal(400);
    expect((await post('/api/clear-lock', { login: '' })).status).to.equal(400);
    expect((await send(server.url, { method: 'POST', path: '/api/skip-wait', headers: { 'content-type': 'application/json' }, body: '{' })).status).to.equal(400);
    expect(done).to.deep.equal([]);
  });
});
