/**
 * The console of a running sandbox, over HTTP: it is named in the endpoints, and what it shows follows
 * what an app does (a sign-up's code, the user, the lock, the workflow), as do its two actions.
 */
import { expect } from 'chai';
import { CognitoIdentityProviderClient, InitiateAuthCommand, SignUpCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { ConsoleState } from '../../../sandbox/console/state.ts';
import { waitFor } from '../../../sandbox/lib/http.ts';
import { startSandbox, type Sandbox } from '../../../sandbox/index.ts';
import { rejection } from '../../fixtures/promises.ts';

describe('sandbox console on a running sandbox', function () {
  this.timeout(60_000);
  let sandbox: Sandbox;
  let cognito: CognitoIdentityProviderClient;
  const email = 'pippin@gmail.com';

  const state = async () => (await (await fetch(`${sandbox.endpoints.console.url}api/state`)).json()) as ConsoleState;
  const act = (path: string, body: unknown) => fetch(`${sandbox.endpoints.console.url}api/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const pippin = async () => (await state()).users.find((u) => u.email === email);

  before(async function () {
    this.timeout(120_000);
    sandbox = await startSandbox({ waits: 'manual' });
    cognito = new CognitoIdentityProviderClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.cognito.endpoint, credentials: sandbox.credentials, maxAttempts: 1 });
  });
  after(async () => {
    cognito?.destroy();
    await sandbox?.stop();
  });

  it('is named in the endpoints as http://127.0.0.1:<port>/ and serves its page there', async () => {
    expect(sandbox.endpoints.console.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(sandbox.endpoints.console.url);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.include('<title>Sandbox console</title>');
  });

  it('shows a sign-up: the code that was sent, the unconfirmed user and the workflow waiting to remind them', async () => {
    await cognito.send(new SignUpCommand({ ClientId: sandbox.endpoints.cognito.clientId, Username: email, Password: 'Second-Breakfast-42', UserAttributes: [{ Name: 'name', Value: 'Pippin' }] }));
    const sent = await sandbox.stores.waitFor('sendgrid', (m) => m.to === email);
    const shown = await waitFor('the execution in the console', async () => {
      const s = await state();
      return s.executions.some((e) => e.waiting) ? s : undefined;
    });
    const message = shown.messages.find((m) => m.to === email);
    expect(message).to.deep.include({ via: 'SendGrid', channel: 'email', subject: sent.subject });
    expect(message?.code?.value).to.match(/^\d{6}$/);
    expect(sent.text).to.include(message!.code!.value);
    expect(shown.users.find((u) => u.email === email)).to.deep.include({ pool: 'user', status: 'UNCONFIRMED', name: 'Pippin', enabled: true });
    expect(shown.executions[0]).to.deep.include({ user: email, status: 'RUNNING', userStatus: 'UNCONFIRMED', waiting: { state: 'WaitBeforeReminder', next: 'SendReminder' } });
    expect(shown.info.cognito).to.deep.equal({ endpoint: sandbox.endpoints.cognito.endpoint, userPoolId: sandbox.endpoints.cognito.userPoolId, clientId: sandbox.endpoints.cognito.clientId, legacyUserPoolId: sandbox.endpoints.cognito.legacyUserPoolId });
  });

  it('counts sign-in attempts against the user, and its Unlock clears them', async () => {
    for (let i = 0; i < 3; i++) {
      const error = await rejection<{ name: string }>(cognito.send(new InitiateAuthCommand({ ClientId: sandbox.endpoints.cognito.clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: 'Wrong-Password-1' } })));
      expect(error.name).to.equal('NotAuthorizedException');
    }
    expect((await pippin())?.lock).to.deep.include({ login: email, attempts: 3, maxAttempts: 5 });
    const cleared = await act('clear-lock', { login: email });
    expect(await cleared.json()).to.deep.equal({ done: true });
    expect((await pippin())?.lock).to.equal(undefined);
    expect(await (await act('clear-lock', { login: email })).json(), 'nothing left to clear').to.deep.equal({ done: false });
  });

  it('runs a held wait at once: the reminder goes out and the workflow waits for the deletion', async () => {
    const arn = (await state()).executions[0]!.executionArn;
    expect(await (await act('skip-wait', { executionArn: arn })).json()).to.deep.equal({ done: true });
    await sandbox.stores.waitFor('ses', (m) => m.to === email && /finish setting up/i.test(m.subject ?? ''));
    const shown = await waitFor('the deletion wait', async () => {
      const e = (await state()).executions[0];
      return e?.waiting?.next === 'DeleteUnconfirmedUser' ? e : undefined;
    });
    expect(shown.states).to.include.members(['WaitBeforeReminder', 'SendReminder', 'WaitBeforeDeletion']);
    const reminder = (await state()).messages.find((m) => m.via === 'SES' && m.to === email);
    expect(reminder, 'the reminder carries no code').to.not.have.property('code');
  });

  it('lets a browser app on this machine call the Cognito endpoint cross-origin', async () => {
    const preflight = await fetch(sandbox.endpoints.cognito.endpoint, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-target,x-amz-user-agent,cache-control' },
    });
    expect(preflight.status).to.equal(204);
    expect(preflight.headers.get('access-control-allow-origin')).to.equal('http://127.0.0.1:3000');
    expect(preflight.headers.get('access-control-allow-headers')).to.include('x-amz-target');
  });
});
