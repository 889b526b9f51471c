/**
 * The sandbox's browser-facing surfaces under attack. The sandbox holds codes and accepts any
 * credentials, so the web pages a developer visits while it runs must not read the console, act
 * through it, or call the Cognito endpoint; and a user's name full of markup must stay text on the
 * console page, in a real browser.
 */
import { expect } from 'chai';
import { CognitoIdentityProviderClient, InitiateAuthCommand, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { ConsoleState } from '../../sandbox/console/state.ts';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { waitFor } from '../../sandbox/lib/http.ts';
import { launchChromium } from '../fixtures/browser.ts';
import { rawRequest, type RawRequest } from '../fixtures/http.ts';
import { record } from './lib/figures.ts';

/** One request a hostile page or host name could make. */
interface Attack extends RawRequest {
  readonly name: string;
}

describe('reliability: the sandbox console and CORS against other web pages', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let cognito: CognitoIdentityProviderClient;
  const email = 'lobelia@gmail.com';
  const markup = '<img src=x onerror="window.__injected=1"><script>window.__injected=2</script>';

  const state = async () => (await (await fetch(`${sandbox.endpoints.console.url}api/state`)).json()) as ConsoleState;

  before(async function () {
    this.timeout(180_000);
    sandbox = await startSandbox({ waits: 'manual', prewarm: false });
    cognito = new CognitoIdentityProviderClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.cognito.endpoint, credentials: sandbox.credentials, maxAttempts: 1 });
    await cognito.send(new SignUpCommand({ ClientId: sandbox.endpoints.cognito.clientId, Username: email, Password: 'Sackville-Baggins-7', UserAttributes: [{ Name: 'name', Value: markup }] }));
    await sandbox.stores.waitFor('sendgrid', (m) => m.to === email);
    for (let i = 0; i < 2; i++) {
      await cognito.send(new InitiateAuthCommand({ ClientId: sandbox.endpoints.cognito.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: 'Wrong-Password-1' } })).catch(() => undefined);
    }
    await waitFor('the held reminder wait', async () => ((await state()).executions[0]?.waiting ? true : undefined));
  });

  after(async () => {
    cognito?.destroy();
    await sandbox?.stop();
  });

  it('the console: requests another page or host name could make are all refused, and none reads a code or acts', async () => {
    const url = sandbox.endpoints.console.url;
    const port = new URL(url).port;
    const code = (await state()).messages.find((m) => m.to === email)!.code!.value;
    const executionArn = (await state()).executions[0]!.executionArn;
    const lockJson = JSON.stringify({ login: email });
    const skipJson = JSON.stringify({ executionArn });
    const attacks: Attack[] = [
      // DNS rebinding: a hostile name resolved to 127.0.0.1, so the browser sends that name as Host.
      ...[`evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`, `localhost:1`].flatMap((host): Attack[] => [
        { name: `state via Host ${host}`, method: 'GET', path: '/api/state', headers: { host } },
        { name: `page via Host ${host}`, method: 'GET', path: '/', headers: { host } },
        { name: `unlock via Host ${host}`, method: 'POST', path: '/api/clear-lock', headers: { host, 'content-type': 'application/json' }, body: lockJson },
      ]),
      // Cross-site requests a page can send without a preflight: forms and text bodies.
      { name: 'form post', method: 'POST', path: '/api/clear-lock', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: 'login=lobelia%40gmail.com' },
      { name: 'text/plain post', method: 'POST', path: '/api/skip-wait', headers: { 'content-type': 'text/plain', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, body: skipJson },
      { name: 'multipart post', method: 'POST', path: '/api/clear-lock', headers: { 'content-type': 'multipart/form-data; boundary=x', origin: 'null' }, body: `--x\r\nContent-Disposition: form-data; name="login"\r\n\r\n${email}\r\n--x--` },
      // JSON from a foreign or sandboxed origin, or from the same site on another port (the example app).
      ...['https://evil.example', 'null', 'http://127.0.0.1:3000', `http://localhost.evil.example:${port}`].map((origin): Attack => ({ name: `JSON from ${origin}`, method: 'POST', path: '/api/clear-lock', headers: { 'content-type': 'application/json', origin }, body: lockJson })),
      { name: 'JSON marked cross-site', method: 'POST', path: '/api/skip-wait', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, body: skipJson },
      { name: 'JSON marked same-site', method: 'POST', path: '/api/skip-wait', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-site' }, body: skipJson },
      { name: 'preflight from evil.example', method: 'OPTIONS', path: '/api/clear-lock', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } },
    ];
    const letThrough: string[] = [];
    for (const attack of attacks) {
      const answer = await rawRequest(url, attack);
      const refused = answer.status >= 400 && answer.headers['access-control-allow-origin'] === undefined;
      if (!refused || answer.body.includes(code)) letThrough.push(`${attack.name} (${answer.status})`);
    }
    const after = await state();
    const lockKept = after.users.find((u) => u.email === email)?.lock?.attempts === 2;
    const waitKept = after.executions[0]?.waiting !== undefined;
    record({
      id: 'hostile.console-requests',
      area: 'hostile input',
      scenario: 'Sandbox console against other web pages: DNS-rebinding host names, cross-site forms, text and multipart posts, JSON from foreign, null and same-site origins, preflights',
      load: `${attacks.length} hostile requests for the state, the page, Unlock and Run now`,
      expected: 'all refused; no code in any answer; the lock and the held wait untouched',
      measured: `${letThrough.length} let through${letThrough.length ? `: ${letThrough.join('; ')}` : ''}; lock ${lockKept ? 'kept' : 'cleared'}, wait ${waitKept ? 'kept' : 'released'}`,
      ok: letThrough.length === 0 && lockKept && waitKept,
    });
    expect(letThrough).to.deep.equal([]);
    expect(lockKept, 'the lock').to.equal(true);
    expect(waitKept, 'the held wait').to.equal(true);
  });

  it('the Cognito endpoint: CORS granted to pages on this machine only, look-alike origins included', async () => {
    const preflight = (origin: string) =>
      rawRequest(sandbox.endpoints.cognito.endpoint, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-target,x-amz-user-agent' } });
    const foreign = ['https://evil.example', 'http://127.0.0.1.evil.example', 'http://localhost.evil.example:3000', 'http://evil.example:9229', 'null', 'file://', 'http://0.0.0.0:3000', 'http://10.0.0.5:3000', 'http://[::ffff:7f00:1]:3000'];
    const local = ['http://127.0.0.1:3000', 'http://localhost:5173', 'https://localhost:8443', 'http://[::1]:8080'];
    const granted: string[] = [];
    for (const origin of foreign) if ((await preflight(origin)).headers['access-control-allow-origin'] !== undefined) granted.push(origin);
    const refusedLocal: string[] = [];
    for (const origin of local) if ((await preflight(origin)).headers['access-control-allow-origin'] !== origin) refusedLocal.push(origin);
    record({
      id: 'hostile.cognito-cors',
      area: 'hostile input',
      scenario: 'Sandbox Cognito endpoint (accepts any credentials): CORS preflights from foreign and look-alike origins',
      load: `${foreign.length} foreign origins (look-alike host names, null, file, 0.0.0.0, LAN, IPv4-mapped) and ${local.length} loopback ones`,
      expected: 'no grant to any foreign origin; every loopback origin granted',
      measured: `${granted.length} foreign granted${granted.length ? ` (${granted.join(', ')})` : ''}; ${local.length - refusedLocal.length} of ${local.length} loopback granted`,
      ok: granted.length === 0 && refusedLocal.length === 0,
    });
    expect(granted).to.deep.equal([]);
    expect(refusedLocal).to.deep.equal([]);
  });

  it('the console page in Chromium: a name full of markup stays text, in the users and in the messages', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(sandbox.endpoints.console.url);
      await page.locator(`.user[data-user="${email}"]`).waitFor({ timeout: 30_000 });
      await page.locator(`.message[data-to="${email}"]`).first().waitFor({ timeout: 30_000 });
      await page.locator(`.message[data-to="${email}"] summary`).first().click();
      const found = {
        injected: (await page.evaluate('window.__injected ?? null')) as number | null,
        elements: await page.locator('main img, main script').count(),
        userText: (await page.locator(`.user[data-user="${email}"] .sub`).first().textContent()) ?? '',
        messageText: (await page.locator(`.message[data-to="${email}"] pre`).first().textContent()) ?? '',
      };
      const shownAsText = found.userText.includes('<img src=x') && found.messageText.includes('<img src=x');
      record({
        id: 'hostile.console-markup',
        area: 'hostile input',
        scenario: 'Sandbox console page in Chromium: a user name of <img onerror> and <script> markup, shown in the users table and in the delivered email',
        load: '1 sign-up with the markup as its name',
        expected: 'no element created, no script run; the markup shown as text',
        measured: `${found.elements} elements created, script ${found.injected === null ? 'not run' : `ran (${found.injected})`}, markup ${shownAsText ? 'shown as text' : 'not shown as text'}`,
        ok: found.elements === 0 && found.injected === null && shownAsText,
      });
      expect(found).to.deep.include({ injected: null, elements: 0 });
      expect(shownAsText, `user: ${found.userText}; message: ${found.messageText.slice(0, 80)}`).to.equal(true);
    } finally {
      await browser.close();
    }
  });
});
