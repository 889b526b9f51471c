/**
 * Passwordless sign-in under parallel requests, through the real create and verify logic against
 * dynalite: a link or code answered many times at once signs in exactly once, and a flood of requests
 * for new messages gets exactly the throttle's allowance.
 */
import { expect } from 'chai';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { PasswordlessSettings } from '../../functions/common/config.ts';
import { UserFacingError } from '../../functions/common/errors.ts';
import { createDomainPolicy } from '../../functions/common/identity.ts';
import { PASSWORDLESS_SK, passwordlessPk } from '../../functions/common/passwordless-items.ts';
import { THROTTLED_MESSAGE, createChallenge, type ChallengeDeps } from '../../functions/create-auth-challenge/logic.ts';
import { verifyAnswer } from '../../functions/verify-auth-challenge-response/logic.ts';
import { createAuthChallengeEvent, verifyAuthChallengeEvent, type SessionEntry } from '../fixtures/events.ts';
import { quietLogger } from '../fixtures/logs.ts';
import { formatMs, record } from './lib/figures.ts';
import { LOCAL_AWS, startDynamo, type LocalDynamo } from './lib/services.ts';

const SETTINGS: PasswordlessSettings = { linkUrl: 'https://app.example.com/sign-in/link', validitySeconds: 900, minIntervalSeconds: 60, maxPerHour: 5 };
const method: SessionEntry = { challengeName: 'CUSTOM_CHALLENGE', challengeResult: false, challengeMetadata: 'METHOD' };

describe('reliability: passwordless sign-in under parallel requests (real create and verify logic, dynalite)', function () {
  this.timeout(60_000);
  quietLogger();
  let dynamo: LocalDynamo;
  let db: DynamoDBDocumentClient;
  let sent: Array<{ code?: string; link?: string }>;
  let clock: number;

  before(async () => {
    dynamo = await startDynamo('passwordless-load');
    db = DynamoDBDocumentClient.from(new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamo.endpoint }));
  });
  after(async () => {
    db.destroy();
    await dynamo.stop();
  });
  beforeEach(() => {
    sent = [];
    clock = Date.now();
  });

  const deps = (): ChallengeDeps => ({
    db,
    tableName: dynamo.tableName,
    settings: SETTINGS,
    branding: { appName: 'Example' },
    policy: createDomainPolicy({ allowedDomains: ['gmail.com'], allowSubdomains: false }),
    send: async (_to, _kind, context) => {
      sent.push(context);
    },
    now: () => clock,
  });
  const attributes = (email: string) => ({ sub: `sub-${email}`, email, email_verified: 'true', 'cognito:user_status': 'CONFIRMED' });

  for (const step of ['code', 'link'] as const) {
    it(`accepts one ${step} answered 50 times at once exactly once`, async () => {
      const email = `${step}.reuse@gmail.com`;
      const challenge = await createChallenge(deps(), createAuthChallengeEvent({ userAttributes: attributes(email), session: [method], clientMetadata: { signInMethod: step } }));
      const answer = step === 'code' ? sent[0]!.code! : new URLSearchParams(new URL(sent[0]!.link!).hash.slice(1)).get('token')!;
      const t0 = performance.now();
      const verdicts = await Promise.all(
        Array.from({ length: 50 }, () =>
          verifyAnswer({ db, tableName: dynamo.tableName, now: Date.now }, verifyAuthChallengeEvent({ userAttributes: attributes(email), privateChallengeParameters: challenge.privateChallengeParameters, challengeAnswer: answer })),
        ),
      );
      const ms = performance.now() - t0;
      const accepted = verdicts.filter((v) => v.correct).length;
      const reasons = new Set(verdicts.flatMap((v) => (v.correct ? [] : [v.reason])));
      const stored = await dynamo.doc.send(new GetCommand({ TableName: dynamo.tableName, Key: { pk: passwordlessPk(email), sk: PASSWORDLESS_SK.challenge(challenge.privateChallengeParameters.challengeId!) }, ConsistentRead: true }));
      const ok = accepted === 1 && [...reasons].join() === 'already-used' && typeof stored.Item?.usedAt === 'number';
      record({
        id: `passwordless.parallel-reuse-${step}`,
        area: 'passwordless',
        scenario: `One emailed ${step === 'code' ? 'code' : 'magic link'} answered in parallel through verify-auth-challenge-response`,
        load: '50 answers with the right secret at once',
        expected: '1 accepted, 49 refused as already used; the challenge marked used',
        measured: `${accepted} accepted, ${verdicts.length - accepted} refused (${[...reasons].join(', ') || 'none'}); usedAt ${stored.Item?.usedAt === undefined ? 'missing' : 'set'}; ${formatMs(ms)}`,
        ok,
      });
      expect(accepted).to.equal(1);
      expect([...reasons]).to.deep.equal(['already-used']);
      expect(stored.Item?.usedAt).to.be.a('number');
    });
  }

  it('sends exactly one message to a login flooded with 40 parallel requests, then the hourly cap holds', async () => {
    const email = 'flooded@gmail.com';
    const request = () =>
      createChallenge(deps(), createAuthChallengeEvent({ userAttributes: attributes(email), session: [method], clientMetadata: { signInMethod: 'code' } })).then(
        () => 'sent',
        (e: unknown) => (e instanceof UserFacingError && e.message === THROTTLED_MESSAGE ? 'throttled' : `other: ${String(e)}`),
      );
    const first = await Promise.all(Array.from({ length: 40 }, request));
    const firstSent = first.filter((r) => r === 'sent').length;
    // One per interval: step past the interval four more times (each with a parallel burst), then the hour's cap of 5 holds.
    const later: string[][] = [];
    for (let i = 1; i <= 5; i++) {
      clock += SETTINGS.minIntervalSeconds * 1000;
      later.push(await Promise.all(Array.from({ length: 10 }, request)));
    }
    const laterSent = later.map((burst) => burst.filter((r) => r === 'sent').length);
    const others = [...first, ...later.flat()].filter((r) => r.startsWith('other'));
    const ok = firstSent === 1 && laterSent.join() === '1,1,1,1,0' && sent.length === 5 && others.length === 0;
    record({
      id: 'passwordless.throttle-flood',
      area: 'passwordless',
      scenario: 'Inbox flood: parallel requests for a new sign-in code to one login through create-auth-challenge',
      load: '40 at once, then 10 at once after each of five 60 s intervals; limits 1 per 60 s, 5 per hour',
      expected: '1 sent of the first 40; 1 per later burst until the hour holds 5, then none; the rest refused with the throttle message',
      measured: `${firstSent} sent of the first 40; later bursts sent ${laterSent.join(', ')}; ${sent.length} messages in all; ${others.length} other errors`,
      ok,
    });
    expect(firstSent).to.equal(1);
    expect(laterSent).to.deep.equal([1, 1, 1, 1, 0]);
    expect(sent).to.have.length(5);
    expect(others).to.deep.equal([]);
  });
});
