/**
 * Reliability through the whole local sandbox (cognito-local + proxy, the Lambda host running the
 * dist/ bundles, dynalite, local SES, KMS, Step Functions, SendGrid and Twilio stand-ins):
 * - Cognito-style replays of every side-effecting function leave exactly one of each effect;
 * - a failing provider makes the sender throw, Lambda retries, and the message arrives exactly once;
 * - the senders refuse a code encrypted for another pool;
 * - parallel wrong passwords against one account pass the lockout exactly the allowed number of times,
 *   on the password flow and on SRP (where the lockout runs at InitiateAuth, before the proof);
 * - and, over everything the functions logged during the whole run, no password, code (plain or
 *   encrypted), token, API key or full event appears.
 */
import { expect } from 'chai';
import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_CREDENTIALS, startSandbox, type Sandbox } from '../../sandbox/index.ts';
import type { LogLine } from '../../sandbox/lambda/host.ts';
import type { StoredMessage } from '../../sandbox/providers.ts';
import { codeContext, encryptCode as encryptAsCognito, kmsKeyring } from '../../sandbox/cognito/code-encryption.ts';
import { poolNameOf } from '../../sandbox/cognito/srp.ts';
import { AuthenticationHelper, largeA, proof } from '../fixtures/srp-client.ts';
import * as ev from './lib/events.ts';
import { formatMs, record, type Figure } from './lib/figures.ts';

/** Everything secret the run produced or used, gathered as it goes; the log test looks for each. */
const secrets = { passwords: new Set<string>(), codes: new Set<string>(), encryptedCodes: new Set<string>(), tokens: new Set<string>() };

function codeIn(message: StoredMessage): string {
  const match = /\b(\d{6})\b/.exec(message.text);
  if (!match) throw new Error(`no 6-digit code in a ${message.provider} message`);
  secrets.codes.add(match[1]!);
  return match[1]!;
}

describe('reliability: the whole sandbox', function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  let cognito: CognitoIdentityProviderClient;
  let doc: DynamoDBDocumentClient;
  let poolId: string;
  let clientId: string;
  const logs: LogLine[] = [];

  const password = (p: string) => (secrets.passwords.add(p), p);
  const tokensOf = (r: { AuthenticationResult?: { IdToken?: string; AccessToken?: string; RefreshToken?: string } }) => {
    for (const t of [r.AuthenticationResult?.IdToken, r.AuthenticationResult?.AccessToken, r.AuthenticationResult?.RefreshToken]) if (t) secrets.tokens.add(t);
    return r.AuthenticationResult;
  };
  const signIn = (username: string, pw: string) =>
    cognito.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: username, PASSWORD: pw } }));

  /** A code encrypted as Cognito encrypts it: Encryption SDK, the pool's KMS key, the pool id in the context. */
  async function encryptCode(code: string, pool = poolId): Promise<string> {
    const { keyring, destroy } = kmsKeyring(sandbox.stack.kmsKey!.arn, { region: sandbox.endpoints.region, endpoint: sandbox.urls.kms, credentials: sandbox.credentials });
    const b64 = await encryptAsCognito(keyring, code, codeContext(pool)).finally(destroy);
    secrets.codes.add(code);
    secrets.encryptedCodes.add(b64);
    return b64;
  }

  const withPool = <T extends { userPoolId: string }>(e: T): T => ({ ...e, userPoolId: poolId });
  const items = async (pk: string, skPrefix = '') =>
    (
      await doc.send(
        new QueryCommand({
          TableName: sandbox.endpoints.dynamodb.tableName,
          KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :sk)' : 'pk = :pk',
          ExpressionAttributeValues: skPrefix ? { ':pk': pk, ':sk': skPrefix } : { ':pk': pk },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];

  before(async function () {
    this.timeout(180_000);
    sandbox = await startSandbox({
      waits: 'manual',
      onLog: (l) => logs.push(l),
      asyncRetryDelaysMs: [100, 200],
      // The sandbox logs at WARN by default; capture what production (INFO) would write.
      environmentOverride: (name, env) => ({
        ...env,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        // The sandbox shortens the lock to seconds for the demo; a flood outlasting it would rightly open a second window.
        ...(name === 'pre-authentication' ? { LOCKOUT_DURATION_SECONDS: '300', LOCKOUT_MAX_DURATION_SECONDS: '3600' } : {}),
      }),
    });
    poolId = sandbox.endpoints.cognito.userPoolId;
    clientId = sandbox.endpoints.cognito.clientId;
    cognito = new CognitoIdentityProviderClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.cognito.endpoint, credentials: sandbox.credentials, maxAttempts: 1 });
    doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: sandbox.endpoints.region, endpoint: sandbox.endpoints.dynamodb.endpoint, credentials: sandbox.credentials }));
  });

  after(async () => {
    cognito?.destroy();
    doc?.destroy();
    await sandbox?.stop();
    expect(sandbox.pids(), 'no process outlives the sandbox').to.deep.equal([]);
  });

  it('runs the journey: sign-up, confirm, sign-in, refresh, lockout, password reset, migration (collecting every secret it uses)', async () => {
    const email = 'merry@gmail.com';
    await cognito.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: password('Buckland-Ferry-7'), UserAttributes: [{ Name: 'email', Value: email }, { Name: 'name', Value: 'Merry Brandybuck' }] }));
    const code = codeIn(await sandbox.stores.waitFor('sendgrid', (m) => m.to === email));
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: code }));
    const auth = tokensOf(await signIn(email, 'Buckland-Ferry-7'));
    tokensOf(await cognito.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: auth!.RefreshToken! } })));
    for (let i = 0; i < 6; i++) await signIn(email, password(`Wrong-Guess-${i}x`)).catch(() => undefined);
    const locked = await signIn(email, 'Buckland-Ferry-7').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(locked?.message).to.match(/^PreAuthentication failed with error Too many sign-in attempts/);
    // Password reset for a second user (the first is locked).
    const pippin = 'pippin@gmail.com';
    await cognito.send(new SignUpCommand({ ClientId: clientId, Username: pippin, Password: password('Took-Tower-Key-9'), UserAttributes: [{ Name: 'email', Value: pippin }] }));
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: pippin, ConfirmationCode: codeIn(await sandbox.stores.waitFor('sendgrid', (m) => m.to === pippin)) }));
    await cognito.send(new ForgotPasswordCommand({ ClientId: clientId, Username: pippin }));
    const reset = await sandbox.stores.waitFor('sendgrid', (m) => m.to === pippin && /reset/i.test(m.subject ?? ''));
    await cognito.send(new ConfirmForgotPasswordCommand({ ClientId: clientId, Username: pippin, ConfirmationCode: codeIn(reset), Password: password('New-Took-Key-10') }));
    tokensOf(await signIn(pippin, 'New-Took-Key-10'));
    // Migration from the legacy pool.
    const legacy = sandbox.endpoints.cognito.legacyUserPoolId;
    await cognito.send(new AdminCreateUserCommand({ UserPoolId: legacy, Username: 'hamfast@gmail.com', UserAttributes: [{ Name: 'email', Value: 'hamfast@gmail.com' }], MessageAction: 'SUPPRESS', TemporaryPassword: password('Temporary-Gaffer-1') }));
    await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: legacy, Username: 'hamfast@gmail.com', Password: password('Old-Gaffer-Taters-2'), Permanent: true }));
    const wrongMigration = await signIn('hamfast@gmail.com', password('Not-The-Gaffer-3')).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(wrongMigration, 'a wrong password during migration is refused').to.be.instanceOf(Error);
    tokensOf(await signIn('hamfast@gmail.com', 'Old-Gaffer-Taters-2'));
    // An unconfirmed sign-up runs the whole reminder workflow: reminder, then deletion and its notice.
    const fatty = await cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'fatty@gmail.com', Password: password('Crickhollow-Bath-4'), UserAttributes: [{ Name: 'email', Value: 'fatty@gmail.com' }] }));
    codeIn(await sandbox.stores.waitFor('sendgrid', (m) => m.to === 'fatty@gmail.com'));
    const fattyRun = (e: unknown) => e === sandbox.workflows.find((input) => input.username === fatty.UserSub)[0];
    await sandbox.workflows.fastForward(fattyRun, { awaitHold: true });
    await sandbox.stores.waitFor('ses', (m) => m.to === 'fatty@gmail.com');
    await sandbox.workflows.fastForward(fattyRun, { awaitHold: true });
    await sandbox.workflows.settle();
    expect((await sandbox.stores.ses()).filter((m) => m.to === 'fatty@gmail.com'), 'reminder and deletion notice').to.have.length(2);
    await sandbox.settle();
    expect(secrets.tokens.size).to.be.at.least(6);
    expect(secrets.codes.size).to.be.at.least(3);
  });

  for (const times of [2, 3]) {
    it(`leaves exactly one effect of each when every side-effecting function is replayed ${times} times`, async () => {
      const p = { ...ev.person(`replay${times}`), name: 'Rosie Cotton' };
      const phone = `+1555555${String(1000 + times * 7).slice(-4)}`;
      const run = async (fn: string, event: unknown) => {
        const results = [];
        for (let i = 0; i < times; i++) results.push(await sandbox.lambda.invoke(fn, event));
        return results;
      };
      const emailCode = await encryptCode(String(200000 + times));
      const smsCode = await encryptCode(String(300000 + times));
      const [signUp, confirm, login, email, sms] = [
        await run('pre-sign-up', withPool(ev.preSignUp(p))),
        await run('post-confirmation', withPool(ev.postConfirmation(p))),
        await run('post-authentication', withPool(ev.postAuthentication(p))),
        await run('custom-email-sender', ev.customEmailSender(p, emailCode, poolId)),
        await run('custom-sms-sender', ev.customSmsSender({ ...p, phone }, smsCode, poolId)),
      ];
      await sandbox.settle();
      const failures = [signUp, confirm, login, email, sms].flat().filter((r) => r.functionError);
      const workflows = sandbox.workflows.find((input) => input.username === p.sub).length;
      const profiles = (await items(`USER#${p.sub}`, 'PROFILE')).length;
      const audits = (await items(`USER#${p.sub}`, 'LOGIN#')).length;
      const welcome = (await sandbox.stores.ses()).filter((m) => m.to === p.email).length;
      const sendgrid = sandbox.stores.sendgrid().filter((m) => m.to === p.email).length;
      const twilio = sandbox.stores.twilio().filter((m) => m.to === phone).length;
      const counts = { workflows, profiles, welcome, audits, sendgrid, twilio };
      const ok = failures.length === 0 && Object.values(counts).every((n) => n === 1);
      record({
        id: `idempotency.replay-${times}`,
        area: 'retries and idempotency',
        scenario: `Same event replayed ${times}× (as Cognito and Lambda retry) to pre-sign-up, post-confirmation, post-authentication, custom-email-sender, custom-sms-sender, in the sandbox`,
        load: `${times} identical invocations each, real bundles`,
        expected: '1 reminder workflow, 1 profile row, 1 welcome email, 1 audit entry, 1 SendGrid email, 1 Twilio SMS; no invocation fails',
        measured: `${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}; ${failures.length} failed invocations`,
        ok,
      });
      expect(failures.map((f) => f.payload)).to.deep.equal([]);
      expect(counts).to.deep.equal({ workflows: 1, profiles: 1, welcome: 1, audits: 1, sendgrid: 1, twilio: 1 });
    });
  }

  it('a sender throws while SendGrid or Twilio fails, Lambda retries, and the message is delivered exactly once', async () => {
    const p = ev.person('retry');
    const phone = '+15555550777';
    sandbox.providers.faults.sendgrid.push({ status: 503 });
    sandbox.providers.faults.twilio.push({ status: 500 });
    const before = sandbox.lambda.invocations.length;
    sandbox.lambda.invokeAsync('custom-email-sender', ev.customEmailSender(p, await encryptCode('424242'), poolId));
    sandbox.lambda.invokeAsync('custom-sms-sender', ev.customSmsSender({ ...p, phone }, await encryptCode('434343'), poolId));
    await sandbox.settle();
    const runs = sandbox.lambda.invocations.slice(before).filter((r) => r.function === 'custom-email-sender' || r.function === 'custom-sms-sender');
    const failed = runs.filter((r) => r.error).length;
    const emails = sandbox.stores.sendgrid().filter((m) => m.to === p.email);
    const texts = sandbox.stores.twilio().filter((m) => m.to === phone);
    record({
      id: 'faults.provider-retry',
      area: 'faults',
      scenario: 'SendGrid answers 503 / Twilio 500 on the first try; Lambda retries the async sender (sandbox)',
      load: '1 email + 1 SMS, one provider failure each',
      expected: 'first invocation throws (not swallowed), the retry delivers; exactly 1 email and 1 SMS with the right code',
      measured: `${runs.length} invocations (${failed} threw); ${emails.length} email, ${texts.length} SMS delivered`,
      ok: failed === 2 && emails.length === 1 && texts.length === 1,
    });
    expect(failed, 'invocations that threw').to.equal(2);
    expect(emails).to.have.length(1);
    expect(texts).to.have.length(1);
    expect(emails[0]!.text).to.include('424242');
    expect(texts[0]!.text).to.include('434343');
  });

  it('sends one reminder and one deletion notice when Step Functions replays each workflow task 2 times', async () => {
    const ted = await cognito.send(new SignUpCommand({ ClientId: clientId, Username: 'ted@gmail.com', Password: password('Sandyman-Mill-6'), UserAttributes: [{ Name: 'email', Value: 'ted@gmail.com' }] }));
    codeIn(await sandbox.stores.waitFor('sendgrid', (m) => m.to === 'ted@gmail.com'));
    const input = { userPoolId: poolId, username: ted.UserSub! };
    const reminders = [await sandbox.lambda.invoke('send-reminder', input), await sandbox.lambda.invoke('send-reminder', input)];
    const afterReminders = (await sandbox.stores.ses()).filter((m) => m.to === 'ted@gmail.com').length;
    const deletions = [await sandbox.lambda.invoke('delete-unconfirmed-user', input), await sandbox.lambda.invoke('delete-unconfirmed-user', input)];
    const total = (await sandbox.stores.ses()).filter((m) => m.to === 'ted@gmail.com').length;
    const failed = [...reminders, ...deletions].filter((r) => r.functionError).length;
    record({
      id: 'idempotency.workflow-tasks',
      area: 'retries and idempotency',
      scenario: 'Step Functions retries a workflow task: send-reminder and delete-unconfirmed-user each invoked twice with the same input (sandbox)',
      load: '2 × send-reminder, then 2 × delete-unconfirmed-user, for one unconfirmed user',
      expected: '1 reminder email, 1 deletion notice; the second deletion finds the user gone and succeeds',
      measured: `${afterReminders} reminder emails, ${total - afterReminders} deletion notices; results ${JSON.stringify(deletions.map((d) => d.payload))}; ${failed} failed`,
      ok: afterReminders === 1 && total - afterReminders === 1 && failed === 0,
    });
    expect(failed).to.equal(0);
    expect(afterReminders, 'reminder emails').to.equal(1);
    expect(total - afterReminders, 'deletion notices').to.equal(1);
  });

  it('a sender whose provider hangs gives up, throws, and the retry delivers exactly once', async () => {
    const p = ev.person('hangprovider');
    sandbox.providers.faults.sendgrid.push({ delayMs: 8_000 });
    const before = sandbox.lambda.invocations.length;
    const t0 = performance.now();
    sandbox.lambda.invokeAsync('custom-email-sender', ev.customEmailSender(p, await encryptCode('454545'), poolId));
    await sandbox.settle();
    const ms = performance.now() - t0;
    const runs = sandbox.lambda.invocations.slice(before).filter((r) => r.function === 'custom-email-sender');
    const emails = sandbox.stores.sendgrid().filter((m) => m.to === p.email);
    record({
      id: 'faults.provider-hang',
      area: 'faults',
      scenario: 'SendGrid accepts the request and does not answer for 8 s; Lambda retries the async sender (sandbox)',
      load: '1 email, first provider call hangs',
      expected: 'the sender gives up within its provider timeout and throws; the retry delivers exactly 1 email',
      measured: `${runs.length} invocations (${runs.filter((r) => r.error).length} threw, first after ${formatMs(runs[0]?.durationMs ?? 0)}); ${emails.length} delivered; ${formatMs(ms)} in all`,
      ok: runs.filter((r) => r.error).length >= 1 && emails.length === 1,
    });
    expect(runs.filter((r) => r.error).length).to.be.at.least(1);
    expect(emails).to.have.length(1);
    expect(emails[0]!.text).to.include('454545');
  });

  it('refuses to send a code whose encryption context names another pool', async () => {
    const p = ev.person('otherpool');
    const foreign = await encryptCode('565656', ev.OTHER_POOL_ID);
    const email = await sandbox.lambda.invoke('custom-email-sender', ev.customEmailSender(p, foreign, poolId));
    const sms = await sandbox.lambda.invoke('custom-sms-sender', ev.customSmsSender({ ...p, phone: '+15555550888' }, foreign, poolId));
    const sent = sandbox.stores.sendgrid().filter((m) => m.to === p.email).length + sandbox.stores.twilio().filter((m) => m.to === '+15555550888').length;
    record({
      id: 'secrets.wrong-pool',
      area: 'secrets',
      scenario: 'Custom senders given a ciphertext whose encryption context names another user pool',
      load: '1 email + 1 SMS event, real KMS keyring against the sandbox KMS',
      expected: 'both refuse (throw), nothing sent',
      measured: `email ${email.functionError ? 'refused' : 'accepted'}, SMS ${sms.functionError ? 'refused' : 'accepted'}; ${sent} sent`,
      ok: Boolean(email.functionError && sms.functionError) && sent === 0,
    });
    expect(email.functionError).to.equal('Unhandled');
    expect(sms.functionError).to.equal('Unhandled');
    expect(JSON.stringify(email.payload)).to.match(/CodeDecryptionError|wrong-pool/);
    expect(sent).to.equal(0);
  });

  /** A confirmed user of the pool, signed up with the code mailed to them. */
  async function confirmedUser(email: string, pw: string): Promise<void> {
    await cognito.send(new SignUpCommand({ ClientId: clientId, Username: email, Password: password(pw), UserAttributes: [{ Name: 'email', Value: email }] }));
    await cognito.send(new ConfirmSignUpCommand({ ClientId: clientId, Username: email, ConfirmationCode: codeIn(await sandbox.stores.waitFor('sendgrid', (m) => m.to === email)) }));
  }

  /** What a refused sign-in attempt of a flood met: the password check, the lock, or something else. */
  const refusal = (e: unknown) => {
    const { name, message } = e as Error;
    return name === 'NotAuthorizedException' && message === 'Incorrect username or password.' ? 'password-checked' : /PreAuthentication failed with error Too many/.test(message) ? 'locked' : `${name}: ${message}`;
  };

  /** Records a flood of 200 wrong passwords on one account, and checks that the lock let exactly 5 through to the password check. */
  function expectLockHeld(figure: Pick<Figure, 'id' | 'scenario' | 'load'>, outcomes: string[], ms: number): void {
    const count = (k: string) => outcomes.filter((o) => o === k).length;
    const other = outcomes.filter((o) => !['password-checked', 'locked'].includes(o));
    record({
      ...figure,
      area: 'lockout',
      expected: '5 reach the password check (NotAuthorizedException), 195 get the lock message, none signs in',
      measured: `${count('password-checked')} password-checked, ${count('locked')} locked, ${other.length} other${other.length ? ` (${[...new Set(other)].slice(0, 2).join('; ')})` : ''}; ${formatMs(ms)}`,
      ok: count('password-checked') === 5 && count('locked') === 195,
    });
    expect(count('signed-in')).to.equal(0);
    expect(count('password-checked'), 'each attempt counted once').to.equal(5);
    expect(count('locked')).to.equal(195);
  }

  it('lets exactly 5 of 200 parallel wrong passwords on one account reach the password check, end to end', async () => {
    const email = 'lotho@gmail.com';
    await confirmedUser(email, 'Sackville-Mill-5');
    const t0 = performance.now();
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => signIn(email, password(`Parallel-Guess-${i}`)).then(() => 'signed-in', refusal)));
    expectLockHeld(
      {
        id: 'lockout.sandbox-200',
        scenario: 'Brute force end to end: parallel wrong passwords through cognito-local, the proxy and the real pre-authentication bundle',
        load: '200 InitiateAuth calls at once, limit 5',
      },
      outcomes,
      performance.now() - t0,
    );
  });

  it('lets exactly 5 of 200 parallel SRP sign-ins with wrong passwords on one account reach the proof check, each counted once, end to end', async () => {
    const email = 'ted.sandyman@gmail.com';
    await confirmedUser(email, 'Sandyman-Mill-5');
    // One SRP_A for every attempt, as a brute-forcer would send it. The proofs are computed after the flood:
    // the library's big-number arithmetic would otherwise stall this process, which also serves the sandbox.
    const helper = new AuthenticationHelper(poolNameOf(poolId));
    const A = await largeA(helper);
    const t0 = performance.now();
    const initiated = await Promise.all(
      Array.from({ length: 200 }, () =>
        cognito.send(new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: email, SRP_A: A } })).then((c) => c.ChallengeParameters ?? {}, refusal),
      ),
    );
    const outcomes: string[] = [];
    for (const [i, challenge] of initiated.entries()) {
      if (typeof challenge === 'string') {
        outcomes.push(challenge);
        continue;
      }
      const ChallengeResponses = await proof(helper, poolId, challenge, password(`Parallel-Proof-${i}`));
      outcomes.push(await cognito.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER', ChallengeResponses })).then((r) => (tokensOf(r), 'signed-in'), refusal));
    }
    expectLockHeld(
      {
        id: 'lockout.sandbox-srp-200',
        scenario: 'Brute force end to end by USER_SRP_AUTH: the lock runs at InitiateAuth; each challenge is answered with a wrong password’s proof, through the proxy’s SRP and the real pre-authentication bundle',
        load: '200 InitiateAuth calls at once, then RespondToAuthChallenge for each challenge, limit 5',
      },
      outcomes,
      performance.now() - t0,
    );
  });

  it('logs no password, code (plain or encrypted), token, API key, full event or email address anywhere in the whole run', () => {
    const lines = [...sandbox.lambda.logs, ...logs.filter((l) => !sandbox.lambda.logs.includes(l))];
    const needles: Array<[string, string]> = [
      ...[...secrets.passwords].map((s): [string, string] => ['password', s]),
      ...[...secrets.codes].map((s): [string, string] => ['code', s]),
      ...[...secrets.encryptedCodes].map((s): [string, string] => ['encrypted code', s.slice(0, 40)]),
      ...[...secrets.tokens].map((s): [string, string] => ['token', s.slice(-40)]),
      ['SendGrid API key', DEFAULT_CREDENTIALS.sendgrid.apiKey],
      ['Twilio auth token', DEFAULT_CREDENTIALS.twilio.authToken],
      ...['merry@gmail.com', 'pippin@gmail.com', 'hamfast@gmail.com', 'lotho@gmail.com', 'fatty@gmail.com', 'ted@gmail.com'].map((s): [string, string] => ['email address', s]),
    ];
    const shapes: Array<[string, RegExp]> = [
      ['a JWT', /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./],
      ['an Encryption SDK ciphertext', /A[YQg][A-Za-z0-9+/]{100,}/],
      ['a full Cognito event', /"(userAttributes|triggerSource)"[\s\S]*"(request|response)"\s*:\s*\{/],
      ['a password field', /"password"\s*:/i],
    ];
    const leaks: string[] = [];
    for (const l of lines) {
      for (const [what, needle] of needles) if (needle && l.line.includes(needle)) leaks.push(`${l.function}: ${what} in ${l.line.slice(0, 160)}`);
      for (const [what, re] of shapes) if (re.test(l.line)) leaks.push(`${l.function}: ${what} in ${l.line.slice(0, 160)}`);
    }
    const structured = lines.filter((l) => {
      try {
        return typeof JSON.parse(l.line) === 'object';
      } catch {
        return false;
      }
    }).length;
    const functions = new Set(lines.map((l) => l.function));
    record({
      id: 'secrets.log-capture',
      area: 'secrets',
      scenario: 'Every line every function logged during a whole sandbox run (journey, replays, retries, wrong pool, brute force)',
      load: `${lines.length} log lines from ${functions.size} functions (${[...functions].sort().join(', ')}); ${secrets.passwords.size} passwords, ${secrets.codes.size} codes, ${secrets.encryptedCodes.size} ciphertexts, ${secrets.tokens.size} tokens, 2 API keys searched`,
      expected: 'no password, code (plain or encrypted), token, API key, full event or email address',
      measured: leaks.length === 0 ? `0 leaks; ${structured} of ${lines.length} lines structured JSON` : `${leaks.length} leaks: ${leaks.slice(0, 3).join(' | ')}`,
      ok: leaks.length === 0,
    });
    expect(lines.length, 'log lines captured').to.be.greaterThan(50);
    expect(functions.size, 'functions that logged').to.be.at.least(9);
    expect(leaks).to.deep.equal([]);
  });
});
