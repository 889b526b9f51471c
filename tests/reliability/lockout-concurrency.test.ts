/**
 * An attacker fires sign-in attempts at one account in parallel. Through the real pre-authentication
 * logic (checkSignInAttempt) and the real DynamoDB client settings, against dynalite, exactly the
 * allowed number of attempts may pass and every attempt must be counted once — no more, no fewer.
 */
import http from 'node:http';
import { expect } from 'chai';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { SYNC_TRIGGER_BUDGET } from '../../functions/common/aws.ts';
import type { LockoutSettings } from '../../functions/common/config.ts';
import { UserFacingError } from '../../functions/common/errors.ts';
import { lockoutKey } from '../../functions/common/lockout.ts';
import { checkSignInAttempt } from '../../functions/pre-authentication/logic.ts';
import * as ev from './lib/events.ts';
import { quietLogger } from '../fixtures/logs.ts';
import { formatMs, record } from './lib/figures.ts';
import { LOCAL_AWS, startDynamo, type LocalDynamo } from './lib/services.ts';

const SETTINGS: LockoutSettings = { maxAttempts: 5, windowSeconds: 900, lockSeconds: 300, escalate: false, maxLockSeconds: 3600, failMode: 'closed' };

describe('reliability: lockout under parallel attempts (real pre-authentication logic, dynalite)', function () {
  this.timeout(60_000);
  quietLogger();
  let dynamo: LocalDynamo;
  let db: DynamoDBDocumentClient;

  before(async () => {
    dynamo = await startDynamo('lockout-load', { inProcess: false });
    // One process stands in for hundreds of Lambda containers here, so connections are pooled and the
    // timeouts relaxed (the timeout claims live in timeouts.test.ts); the retry count is production's,
    // because an SDK retry of a conditional write is exactly what could double-count an attempt.
    db = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        ...LOCAL_AWS,
        endpoint: dynamo.endpoint,
        maxAttempts: SYNC_TRIGGER_BUDGET.maxAttempts,
        requestHandler: new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: 30_000, httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64, noDelay: true } as http.AgentOptions) }),
      }),
    );
  });
  after(async () => {
    db.destroy();
    await dynamo.stop();
  });

  /** Fires `attempts` attempts for each person at once; returns per-person pass/refuse counts and messages. */
  async function flood(people: ev.Person[], attempts: number) {
    const deps = { db, tableName: dynamo.tableName, settings: SETTINGS, now: Date.now };
    const t0 = performance.now();
    const results = await Promise.all(
      people.flatMap((p) =>
        Array.from({ length: attempts }, async () => {
          try {
            await checkSignInAttempt(deps, ev.preAuthentication(p));
            return { email: p.email, passed: true, message: '' };
          } catch (error) {
            return { email: p.email, passed: false, message: error instanceof UserFacingError ? error.message : `non user-facing ${String(error)}` };
          }
        }),
      ),
    );
    const ms = performance.now() - t0;
    const byPerson = new Map(people.map((p) => [p.email, { passed: 0, refused: 0, messages: new Set<string>() }]));
    for (const r of results) {
      const s = byPerson.get(r.email)!;
      if (r.passed) s.passed += 1;
      else {
        s.refused += 1;
        s.messages.add(r.message.replace(/\d+ (minute|minutes|hours)/, 'N $1'));
      }
    }
    return { byPerson, ms };
  }

  async function state(p: ev.Person) {
    const out = await dynamo.doc.send(new GetCommand({ TableName: dynamo.tableName, Key: lockoutKey(p.email), ConsistentRead: true }));
    return out.Item as { attempts: number; total?: number; refused?: number; lockedUntil: number; lockCount: number } | undefined;
  }

  it('lets exactly 5 of 200 parallel attempts on one account through and counts all 200', async () => {
    const frodo = ev.person('flood');
    const floodStart = Date.now();
    const { byPerson, ms } = await flood([frodo], 200);
    const s = byPerson.get(frodo.email)!;
    const item = await state(frodo);
    // One lock, not lengthened by the 194 attempts refused during it.
    const lockNotLengthened = Boolean(item && item.lockCount === 1 && item.lockedUntil <= floodStart + ms + SETTINGS.lockSeconds * 1000);
    const ok = s.passed === SETTINGS.maxAttempts && s.refused === 195 && item?.total === 200 && item?.refused === 195 && item.lockedUntil > Date.now() && lockNotLengthened;
    record({
      id: 'lockout.one-user-200',
      area: 'lockout',
      scenario: 'Brute force on one account: parallel sign-in attempts through pre-authentication',
      load: '200 attempts at once, limit 5',
      expected: '5 pass, 195 refused with the generic lock message; stored total 200, refused 195; one 5-minute lock, not lengthened by the refused attempts',
      measured: `${s.passed} passed, ${s.refused} refused; stored total ${item?.total}, refused ${item?.refused}; locks ${item?.lockCount}, locked for ${item ? Math.round((item.lockedUntil - floodStart) / 1000) : '?'} s from the first attempt; ${formatMs(ms)}`,
      ok,
    });
    expect(s.passed, 'attempts let through').to.equal(SETTINGS.maxAttempts);
    expect(s.refused).to.equal(195);
    for (const m of s.messages) expect(m).to.match(/^Too many sign-in attempts\. Try again in N (minute|minutes|hours)$/);
    expect(item?.total, 'attempts counted in the table').to.equal(200);
    expect(item?.refused, 'refusals counted in the table').to.equal(195);
    expect(item!.lockedUntil).to.be.greaterThan(Date.now());
    expect(item!.lockCount, 'locks engaged').to.equal(1);
    expect(lockNotLengthened, 'lock lengthened by refused attempts').to.equal(true);
  });

  it('counts 20 accounts × 50 parallel attempts with no attempt lost or counted twice across accounts', async () => {
    const people = Array.from({ length: 20 }, (_, i) => ev.person(`many${i}`));
    const { byPerson, ms } = await flood(people, 50);
    const items = await Promise.all(people.map(state));
    const passed = [...byPerson.values()].map((s) => s.passed);
    const totals = items.map((i) => i?.total ?? 0);
    const refusedStored = items.map((i) => i?.refused ?? 0);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const ok = passed.every((n) => n === 5) && totals.every((n) => n === 50) && refusedStored.every((n) => n === 45);
    record({
      id: 'lockout.twenty-users-50',
      area: 'lockout',
      scenario: 'Many accounts attacked at once',
      load: '20 accounts × 50 attempts, all at once (1,000 attempts)',
      expected: 'each account: 5 pass, total 50, refused 45 (sum 100 / 1,000 / 900)',
      measured: `passed per account ${Math.min(...passed)}–${Math.max(...passed)} (sum ${sum(passed)}); stored totals ${Math.min(...totals)}–${Math.max(...totals)} (sum ${sum(totals)}); stored refusals sum ${sum(refusedStored)}; ${formatMs(ms)}`,
      ok,
    });
    expect(passed, 'attempts let through per account').to.deep.equal(people.map(() => 5));
    expect(totals, 'attempts counted per account').to.deep.equal(people.map(() => 50));
    expect(refusedStored, 'refusals counted per account').to.deep.equal(people.map(() => 45));
  });

  it('throttles a username that does not exist exactly like a real account, with the same message', async () => {
    const ghost = ev.person('ghost');
    const ghostEvent = { ...ev.preAuthentication(ghost, true), userName: ghost.email };
    const deps = { db, tableName: dynamo.tableName, settings: SETTINGS, now: Date.now };
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () =>
        checkSignInAttempt(deps, ghostEvent).then(
          () => 'passed',
          (e: Error) => e.message.replace(/\d+ (minute|minutes|hours)/, 'N $1'),
        ),
      ),
    );
    const passed = outcomes.filter((o) => o === 'passed').length;
    const item = await state(ghost);
    record({
      id: 'lockout.user-not-found',
      area: 'lockout',
      scenario: 'Attempts on a username that does not exist (userNotFound)',
      load: '50 attempts at once',
      expected: '5 pass, 45 refused with the same message a real account gets; stored total 50',
      measured: `${passed} passed, ${50 - passed} refused; messages ${JSON.stringify([...new Set(outcomes.filter((o) => o !== 'passed'))])}; stored total ${item?.total}`,
      ok: passed === 5 && item?.total === 50,
    });
    expect(passed).to.equal(5);
    expect(new Set(outcomes.filter((o) => o !== 'passed'))).to.deep.equal(new Set(['Too many sign-in attempts. Try again in N minutes']));
    expect(item?.total).to.equal(50);
  });
});
