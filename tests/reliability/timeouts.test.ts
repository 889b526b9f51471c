/**
 * When a dependency hangs (accepts the connection, never answers), every synchronous trigger must still
 * answer Cognito inside its 5 s limit, so the SDK client settings in functions/common/aws.ts have to cut
 * a hung call short. This is the one place the suite asserts a time bound: the bound is the claim.
 */
import { expect } from 'chai';
import { CognitoIdentityProviderClient, AdminGetUserCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { KMSClient, DecryptCommand } from '@aws-sdk/client-kms';
import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { BACKGROUND_BUDGET, SYNC_TRIGGER_BUDGET, clientConfig, type ClientBudget } from '../../functions/common/aws.ts';
import { REFUSAL_MESSAGE } from '../../functions/user-migration/logic.ts';
import { privateParameters, secretHash } from '../../functions/common/passwordless.ts';
import { createAuthChallengeEvent, defineAuthChallengeEvent, verifyAuthChallengeEvent } from '../fixtures/events.ts';
import * as ev from './lib/events.ts';
import { formatMs, record } from './lib/figures.ts';
import { runHandler, type Endpoints } from './lib/handlers.ts';
import { startBlackHole, timed, type BlackHole } from './lib/net.ts';
import { LOCAL_AWS, startDynamo } from './lib/services.ts';

/** Cognito's limit for a synchronous trigger. */
const COGNITO_LIMIT_MS = 5_000;
/** How long the suite waits before it calls a synchronous-path call hung: well past Cognito's limit. */
const HUNG_AFTER_MS = 7_000;
const BACKGROUND_WORST_MS = BACKGROUND_BUDGET.maxAttempts * (BACKGROUND_BUDGET.connectionTimeoutMs + BACKGROUND_BUDGET.requestTimeoutMs) + 2_000;

/** One call of each service the functions use, as a client configured with `budget` makes it. */
function probes(endpoint: string, budget: ClientBudget): Record<string, () => Promise<unknown>> {
  const cfg = { ...LOCAL_AWS, endpoint, ...clientConfig(budget) };
  return {
    DynamoDB: () => new DynamoDBClient(cfg).send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' }, sk: { S: 'b' } } })),
    'Step Functions': () => new SFNClient(cfg).send(new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:x', name: 'n', input: '{}' })),
    'Cognito (legacy pool)': () => new CognitoIdentityProviderClient(cfg).send(new AdminGetUserCommand({ UserPoolId: 'us-east-1_x', Username: 'u' })),
    SES: () =>
      new SESv2Client(cfg).send(
        new SendEmailCommand({ FromEmailAddress: 'a@example.com', Destination: { ToAddresses: ['b@example.com'] }, Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } } }),
      ),
    KMS: () => new KMSClient(cfg).send(new DecryptCommand({ CiphertextBlob: new Uint8Array([1, 2, 3]) })),
    'Secrets Manager': () => new SecretsManagerClient(cfg).send(new GetSecretValueCommand({ SecretId: 'x' })),
  };
}

/** Runs `call`, but gives up after HUNG_AFTER_MS so a hung call fails the test instead of the run. */
async function bounded(call: () => Promise<unknown>, capMs = HUNG_AFTER_MS): Promise<{ ms: number; hung: boolean; errorName?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), capMs)));
  const result = await Promise.race([timed(call), cap]);
  clearTimeout(timer);
  if (result === 'hung') return { ms: capMs, hung: true };
  return { ms: result.ms, hung: false, errorName: (result.error as Error | undefined)?.name };
}

describe('reliability: every call gives up on a hung dependency in time', function () {
  this.timeout(60_000);
  let hole: BlackHole;
  // The background budget legitimately takes ~10 s to give up, so it runs alongside the other tests.
  let background: Promise<{ ms: number; hung: boolean; errorName?: string }>;
  before(async () => {
    hole = await startBlackHole();
    background = bounded(probes(hole.url, BACKGROUND_BUDGET).SES!, BACKGROUND_WORST_MS + 4_000);
  });
  after(async () => {
    await hole.stop();
  });

  it('each AWS client built with SYNC_TRIGGER_BUDGET fails a hung call well inside Cognito\'s 5 s', async () => {
    const calls = probes(hole.url, SYNC_TRIGGER_BUDGET);
    const results = await Promise.all(Object.entries(calls).map(async ([service, call]) => ({ service, ...(await bounded(call)) })));
    const worst = results.reduce((a, b) => (b.ms > a.ms ? b : a));
    const summary = results.map((r) => `${r.service} ${r.hung ? `hung > ${formatMs(HUNG_AFTER_MS)}` : formatMs(r.ms)}`).join('; ');
    const ok = results.every((r) => !r.hung && r.ms < COGNITO_LIMIT_MS);
    record({
      id: 'timeouts.sdk-sync',
      area: 'timeouts',
      scenario: 'One AWS call from a synchronous trigger (SYNC_TRIGGER_BUDGET) to a dependency that accepts and never answers',
      load: `black-hole TCP server; ${Object.keys(calls).length} services`,
      expected: `every call rejected in < ${formatMs(COGNITO_LIMIT_MS)}`,
      measured: `worst ${worst.hung ? `no answer after ${formatMs(HUNG_AFTER_MS)}` : formatMs(worst.ms)} (${summary})`,
      ok,
    });
    for (const r of results) {
      expect(r.hung, `${r.service} call never gave up`).to.equal(false);
      expect(r.ms, `${r.service} call took too long`).to.be.below(COGNITO_LIMIT_MS);
    }
  });

  it('every synchronous trigger answers Cognito within 5 s while all its dependencies hang', async () => {
    const all: Endpoints = { dynamodb: hole.url, sesv2: hole.url, sfn: hole.url, cognito: hole.url, kms: hole.url, secretsManager: hole.url };
    const frodo = ev.person('hang');
    const cases: Array<{ name: string; event: unknown; mustSucceed?: boolean; mustFail?: boolean }> = [
      // The sign-up goes on when the reminder workflow cannot start.
      { name: 'pre-sign-up', event: ev.preSignUp(frodo), mustSucceed: true },
      { name: 'custom-message', event: ev.customMessage(frodo), mustSucceed: true },
      { name: 'post-confirmation', event: ev.postConfirmation(frodo) },
      // Fail closed: an attempt that cannot be counted is refused.
      { name: 'pre-authentication', event: ev.preAuthentication(frodo), mustFail: true },
      { name: 'post-authentication', event: ev.postAuthentication(frodo) },
      { name: 'pre-token-generation', event: ev.preTokenGeneration(frodo), mustSucceed: true },
      // Generic error during a legacy outage.
      { name: 'user-migration', event: ev.userMigration(frodo, 'Correct-Horse-Battery-9'), mustFail: true },
      { name: 'define-auth-challenge', event: defineAuthChallengeEvent(), mustSucceed: true },
      // Fail closed: no message when the throttle cannot be asked, no sign-in when the code cannot be consumed.
      { name: 'create-auth-challenge', event: createAuthChallengeEvent({ session: [{ challengeName: 'CUSTOM_CHALLENGE', challengeResult: false, challengeMetadata: 'METHOD' }], clientMetadata: { signInMethod: 'code' } }), mustFail: true },
      {
        name: 'verify-auth-challenge-response',
        event: verifyAuthChallengeEvent({ privateChallengeParameters: privateParameters({ step: 'code', challengeId: 'c'.repeat(32), hash: secretHash('c'.repeat(32), 'code', '135790'), validUntil: Date.now() + 600_000 }), challengeAnswer: '135790' }),
        mustFail: true,
      },
    ];
    const runs = await Promise.all(
      cases.map(async (c) => ({ ...c, run: await runHandler(c.name, [c.event], { endpoints: all, killAfterMs: HUNG_AFTER_MS + 10_000 }) })),
    );
    const rows = runs.map(({ name, run }) => {
      const o = run.outcomes[0];
      return { name, ms: o?.ms ?? Number.POSITIVE_INFINITY, outcome: o ? (o.ok ? 'answered' : `refused: ${o.error?.message}`) : `no answer (${run.loadError?.name}: ${run.loadError?.message})` };
    });
    const worst = rows.reduce((a, b) => (b.ms > a.ms ? b : a));
    const ok = rows.every((r) => r.ms < COGNITO_LIMIT_MS);
    record({
      id: 'timeouts.triggers-hung',
      area: 'timeouts',
      scenario: 'Each synchronous trigger, real handler and real client settings, every AWS dependency hanging',
      load: `black-hole TCP server for DynamoDB, SES, Step Functions, Cognito, KMS, Secrets Manager, Lambda; ${cases.length} triggers`,
      expected: `each answers in < ${formatMs(COGNITO_LIMIT_MS)}; pre-sign-up lets the sign-up through; pre-authentication refuses (fail closed); user-migration gives the generic error`,
      measured: `worst ${worst.name} ${Number.isFinite(worst.ms) ? formatMs(worst.ms) : 'never'}; ` + rows.map((r) => `${r.name} ${Number.isFinite(r.ms) ? formatMs(r.ms) : 'never'}`).join(', '),
      ok,
    });
    for (const c of runs) {
      const o = c.run.outcomes[0];
      expect(c.run.loadError, `${c.name} failed to load or never answered`).to.equal(undefined);
      expect(o, `${c.name} gave no outcome`).to.not.equal(undefined);
      expect(o!.ms, `${c.name} answered too late`).to.be.below(COGNITO_LIMIT_MS);
      if (c.mustSucceed) expect(o!.ok, `${c.name} should answer normally: ${o!.error?.message}`).to.equal(true);
      if (c.mustFail) {
        expect(o!.ok, `${c.name} should refuse`).to.equal(false);
        if (c.name === 'user-migration') expect(o!.error?.message).to.equal(REFUSAL_MESSAGE);
      }
    }
  });

  it('post-confirmation answers within 5 s when the table works and every other service hangs, having saved the profile that queues the welcome email', async () => {
    const dynamo = await startDynamo();
    try {
      const p = ev.person('seshang');
      const run = await runHandler('post-confirmation', [ev.postConfirmation(p)], {
        endpoints: { dynamodb: dynamo.endpoint, sesv2: hole.url, sfn: hole.url, cognito: hole.url, kms: hole.url, secretsManager: hole.url },
        env: { TABLE_NAME: dynamo.tableName },
        killAfterMs: HUNG_AFTER_MS + 10_000,
      });
      const o = run.outcomes[0];
      const profiles = (await dynamo.items(`USER#${p.sub}`)).filter((i) => i.sk === 'PROFILE');
      const profile = profiles.filter((i) => i.welcomeEmail === 'PENDING').length;
      record({
        id: 'timeouts.post-confirmation-ses-hung',
        area: 'timeouts',
        scenario: 'post-confirmation with a working table while every other AWS endpoint (SES, Step Functions, Cognito, KMS, Secrets Manager) hangs',
        load: 'dynalite healthy; black hole for every other service',
        expected: `answers in < ${formatMs(COGNITO_LIMIT_MS)}; the confirmation succeeds; the profile row is saved PENDING (the welcome email queued on the table stream)`,
        measured: o ? `${o.ok ? 'answered' : `refused: ${o.error?.message}`} in ${formatMs(o.ms)}; PENDING profile rows ${profile}` : `no answer (${run.loadError?.message})`,
        ok: Boolean(o && o.ok && o.ms < COGNITO_LIMIT_MS && profile === 1),
      });
      expect(run.loadError).to.equal(undefined);
      expect(o!.ms).to.be.below(COGNITO_LIMIT_MS);
      expect(o!.ok, o!.error?.message).to.equal(true);
      expect(profile).to.equal(1);
    } finally {
      await dynamo.stop();
    }
  });

  it('an AWS client built with BACKGROUND_BUDGET fails a hung call instead of waiting forever', async () => {
    const worstCase = BACKGROUND_WORST_MS;
    const r = await background;
    record({
      id: 'timeouts.sdk-background',
      area: 'timeouts',
      scenario: 'One AWS call from a sender or workflow task (BACKGROUND_BUDGET) to a hung dependency',
      load: 'black-hole TCP server; SES SendEmail',
      expected: `rejected within the budget (≤ ${formatMs(worstCase)}), so Lambda or Step Functions retries`,
      measured: r.hung ? `no answer after ${formatMs(r.ms)}` : `rejected after ${formatMs(r.ms)} (${r.errorName})`,
      ok: !r.hung && r.ms <= worstCase,
    });
    expect(r.hung, 'the call never gave up').to.equal(false);
    expect(r.ms).to.be.at.most(worstCase);
  });
});
