/**
 * The lockout and the sign-in record against a real DynamoDB implementation (dynalite, in memory):
 * atomicity under parallel attempts, expiry and escalation with an injected clock, and idempotent
 * post-authentication under Cognito-style replays.
 *
 * dynalite implements conditional writes faithfully but does not return the old item on a failed
 * condition (ReturnValuesOnConditionCheckFailure). Every scenario therefore runs twice: against
 * dynalite as it is (the functions' emulator fallback: a consistent read feeding the next
 * compare-and-set) and through a thin wrapper that attaches the item to the failure in DynamoDB's
 * attribute-value form, which is the path production takes.
 */
import { createRequire } from 'node:module';
import { Agent, type Server } from 'node:http';
import type net from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import fc from 'fast-check';
import type { LockoutSettings } from '../../../functions/common/config.ts';
import { lockoutKey, parseLockoutState, type DocumentSender, type LockoutState } from '../../../functions/common/lockout.ts';
import { recordAttempt, type AttemptDeps, type AttemptOutcome } from '../../../functions/pre-authentication/attempts.ts';
import { checkSignInAttempt } from '../../../functions/pre-authentication/logic.ts';
import { DEDUPE_WINDOW_SECONDS, recordSignIn, type RecordDeps } from '../../../functions/post-authentication/record.ts';
import { EMAIL, SUB, confirmedUserAttributes, postAuthenticationEvent, preAuthenticationEvent } from '../../fixtures/events.ts';
import { createProjectTable } from '../../../sandbox/lib/table.ts';
import { quietLogger } from '../../fixtures/logs.ts';

const require = createRequire(import.meta.url);
// dynalite ships no types; this is the one call made.
const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;

const TABLE = 'lockout-it';
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const SETTINGS: LockoutSettings = { maxAttempts: 5, windowSeconds: 900, lockSeconds: 300, escalate: false, maxLockSeconds: 3600, failMode: 'closed' };

/**
 * Makes dynalite honour ReturnValuesOnConditionCheckFailure=ALL_OLD as DynamoDB does: the request
 * parameter is accepted (dynalite drops parameters it does not know) and a failed condition carries
 * the item dynalite checked, under its per-item lock, so this is as atomic as the real service.
 * Returns the function that removes the patch.
 */
/**
 * A client on which chosen UpdateItem requests have their answer lost after the store applied them:
 * the request is sent, its answer (success or failure) thrown away, and the very same request sent
 * again, which is what the SDK's retry does after a timeout. `between` runs in the gap, standing in
 * for other attempts that land before the retry does.
 */
function losingAnswers(inner: DocumentSender, lose: (update: number) => boolean, between?: () => Promise<void>): DocumentSender {
  let updates = 0;
  const send = async (command: Parameters<DocumentSender['send']>[0]) => {
    if (command instanceof UpdateCommand && lose(updates++)) {
      await inner.send(command).catch(() => undefined);
      await between?.();
    }
    return inner.send(command);
  };
  return { send } as DocumentSender;
}

/** The stored counters, without the attempt ids (random per attempt, so never equal across logins). */
function counters(state: LockoutState | undefined) {
  if (!state) return undefined;
  const { attempts, windowStart, lockedUntil, lockCount, total, refused, expiresAt } = state;
  return { attempts, windowStart, lockedUntil, lockCount, total, refused, expiresAt };
}

function patchDynaliteAllOld(): () => void {
  type Types = Record<string, unknown>;
  const db = require('dynalite/db') as { checkConditional: (data: Record<string, unknown>, existing: unknown) => (Error & { body: Record<string, unknown> }) | null | undefined };
  const validations = ['updateItem', 'putItem', 'deleteItem'].map((action) => require(`dynalite/validations/${action}`) as { types: Types });
  const original = db.checkConditional;
  for (const { types } of validations) types.ReturnValuesOnConditionCheckFailure = { type: 'String', enum: ['ALL_OLD', 'NONE'] };
  db.checkConditional = (data, existing) => {
    const error = original(data, existing);
    if (error && existing && data.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') error.body.Item = existing;
    return error;
  };
  return () => {
    db.checkConditional = original;
    for (const { types } of validations) delete types.ReturnValuesOnConditionCheckFailure;
  };
}

describe('lockout against dynalite', function () {
  quietLogger();
  // Generous for a loaded machine; the whole file takes a few seconds on an idle one.
  this.timeout(120_000);
  let server: Server;
  let raw: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let clock = T0;
  let tableCount = 0;
  let table = TABLE;

  before(async () => {
    server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    raw = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      // A thousand requests in flight at once is the point of these tests, not a socket leak.
      requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 100 }), socketAcquisitionWarningTimeout: 120_000 }),
    });
    doc = DynamoDBDocumentClient.from(raw);
  });

  after(async () => {
    raw?.destroy();
    server?.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(async () => {
    // A fresh table per test keeps scenarios independent without deleting items one by one.
    clock = T0;
    table = `${TABLE}-${++tableCount}`;
    await createProjectTable(raw, table);
    // dynalite has no UpdateTimeToLive; expiry is asserted on the expiresAt values instead.
  });

  const modes = [
    { name: 'with ALL_OLD returned (production path)', allOld: true },
    { name: 'without ALL_OLD (emulator fallback)', allOld: false },
  ];
  const withMode = (mode: { allOld: boolean }) => {
    let unpatch: (() => void) | undefined;
    beforeEach(() => {
      if (mode.allOld) unpatch = patchDynaliteAllOld();
    });
    afterEach(() => {
      unpatch?.();
      unpatch = undefined;
    });
    // Each client counts its reads to prove which path ran: the production path never reads.
    return () => {
      const inner = DynamoDBDocumentClient.from(raw);
      const send = (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
        if (command instanceof GetCommand) reads++;
        return inner.send(command);
      };
      return { send } as DocumentSender;
    };
  };
  let reads = 0;
  beforeEach(() => {
    reads = 0;
  });

  const stateOf = async (login: string): Promise<LockoutState | undefined> =>
    parseLockoutState((await doc.send(new GetCommand({ TableName: table, Key: lockoutKey(login), ConsistentRead: true }))).Item);

  for (const mode of modes) {
    describe(mode.name, () => {
      const client = withMode(mode);
      let db: DocumentSender;
      beforeEach(() => {
        db = client();
      });
      const deps = (settings: Partial<LockoutSettings> = {}): AttemptDeps => ({ db, tableName: table, settings: { ...SETTINGS, ...settings }, now: () => clock });

      it('200 parallel attempts on one login: exactly maxAttempts pass and every attempt is counted once', async () => {
        const outcomes = await Promise.all(Array.from({ length: 200 }, () => recordAttempt(deps(), EMAIL)));
        const allowed = outcomes.filter((o) => o.allowed);
        const refused = outcomes.filter((o): o is Extract<AttemptOutcome, { allowed: false }> => !o.allowed);
        expect(allowed).to.have.length(5);
        expect(allowed.map((o) => (o as { attempts: number }).attempts).sort()).to.deep.equal([1, 2, 3, 4, 5]);
        expect(refused.filter((o) => o.reason === 'lock-engaged')).to.have.length(1);
        expect(refused.every((o) => o.retryAt === T0 + 300_000)).to.equal(true);
        const state = await stateOf(EMAIL);
        expect(state).to.deep.include({ total: 200, refused: 195, lockCount: 1, lockedUntil: T0 + 300_000 });
        if (mode.allOld) expect(reads, 'reads on the production path').to.equal(0);
        else expect(reads, 'fallback reads').to.be.greaterThan(0);
      });

      // The fallback path's atomicity is already proven by the 200-attempt flood; this one runs on the production path only, to stay quick.
      if (mode.allOld) it('20 logins × 50 parallel attempts: none lost, none double-counted, none leaking across logins', async () => {
        const logins = Array.from({ length: 20 }, (_, i) => `user${i}@gmail.com`);
        const jobs = logins.flatMap((login) => Array.from({ length: 50 }, () => recordAttempt(deps(), login).then((o) => ({ login, o }))));
        const results = await Promise.all(jobs);
        for (const login of logins) {
          const mine = results.filter((r) => r.login === login);
          expect(mine.filter((r) => r.o.allowed), login).to.have.length(5);
          expect(await stateOf(login), login).to.deep.include({ total: 50, refused: 45, lockCount: 1 });
        }
      });

      it('locks after maxAttempts, refuses without lengthening the lock, then gives a fresh allowance when it ends', async () => {
        for (let i = 1; i <= 5; i++) expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: true, attempts: i });
        expect(await recordAttempt(deps(), EMAIL)).to.deep.include({ allowed: false, reason: 'lock-engaged', retryAt: T0 + 300_000 });
        clock = T0 + 299_999;
        expect(await recordAttempt(deps(), EMAIL)).to.deep.include({ allowed: false, reason: 'locked', retryAt: T0 + 300_000 });
        expect((await stateOf(EMAIL))!.lockedUntil).to.equal(T0 + 300_000);
        clock = T0 + 300_000;
        expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: true, attempts: 1 });
      });

      it('forgets attempts when the window expires without a lock', async () => {
        for (let i = 0; i < 4; i++) await recordAttempt(deps(), EMAIL);
        clock = T0 + 900_000;
        expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: true, attempts: 1 });
        expect(await stateOf(EMAIL)).to.deep.include({ attempts: 1, windowStart: T0 + 900_000, total: 5, expiresAt: (T0 + 1_800_000) / 1000 });
      });

      it('doubles each further lock up to the cap, and starts again from the first after the level decays', async () => {
        const escalate = { escalate: true, lockSeconds: 60, maxLockSeconds: 200 };
        const lockLengths: number[] = [];
        for (let lock = 0; lock < 4; lock++) {
          for (let i = 0; i < 5; i++) expect((await recordAttempt(deps(escalate), EMAIL)).allowed).to.equal(true);
          const outcome = await recordAttempt(deps(escalate), EMAIL);
          expect(outcome).to.deep.include({ allowed: false, reason: 'lock-engaged', lockCount: lock + 1 });
          lockLengths.push(((outcome as { retryAt: number }).retryAt - clock) / 1000);
          clock = (outcome as { retryAt: number }).retryAt;
        }
        expect(lockLengths).to.deep.equal([60, 120, 200, 200]);
        // Quiet for as long as the longest lock after the last one ended: the next lock is the first again.
        clock += 200_000;
        for (let i = 0; i < 5; i++) await recordAttempt(deps(escalate), EMAIL);
        const after = await recordAttempt(deps(escalate), EMAIL);
        expect(after).to.deep.include({ reason: 'lock-engaged', lockCount: 1, retryAt: clock + 60_000 });
      });

      it('counts every attempt exactly once when every write has its answer lost and is sent again', async () => {
        const lossy = (settings: Partial<LockoutSettings> = {}): AttemptDeps => ({ ...deps(settings), db: losingAnswers(db, () => true) });
        const outcomes: AttemptOutcome[] = [];
        for (let i = 0; i < 8; i++) outcomes.push(await recordAttempt(lossy(), EMAIL));
        expect(outcomes.slice(0, 5)).to.deep.equal([1, 2, 3, 4, 5].map((attempts) => ({ allowed: true, attempts })));
        expect(outcomes[5]).to.deep.equal({ allowed: false, reason: 'lock-engaged', retryAt: T0 + 300_000, lockCount: 1 });
        expect(outcomes.slice(6)).to.deep.equal(Array(2).fill({ allowed: false, reason: 'locked', retryAt: T0 + 300_000, lockCount: 1 }));
        expect(await stateOf(EMAIL)).to.deep.include({ attempts: 0, total: 8, refused: 3, lockCount: 1 });
        // The window after the lock, then a restart once it has expired: both transitions, lost answers and all.
        clock = T0 + 300_000;
        expect(await recordAttempt(lossy(), EMAIL)).to.deep.equal({ allowed: true, attempts: 1 });
        clock = T0 + 300_000 + 900_000;
        expect(await recordAttempt(lossy(), EMAIL)).to.deep.equal({ allowed: true, attempts: 1 });
        expect(await stateOf(EMAIL)).to.deep.include({ attempts: 1, windowStart: clock, total: 10, refused: 3 });
      });

      it('changes nothing by losing answers: any pattern of lost answers over any sequence of attempts gives the outcomes and counters of a clean run (property)', async () => {
        const settings = { maxAttempts: 3, windowSeconds: 60, lockSeconds: 30, escalate: true, maxLockSeconds: 120 };
        let run = 0;
        await fc.assert(
          fc.asyncProperty(
            // Time before each attempt: none, a little, part of a window, a lock, a window, past the escalation memory.
            fc.array(fc.constantFrom(0, 0, 0, 1, 10_000, 30_000, 60_000, 200_000), { minLength: 1, maxLength: 14 }),
            fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
            async (gaps, lost) => {
              run++;
              clock = T0;
              const [lossyLogin, cleanLogin] = [`lossy${run}@gmail.com`, `clean${run}@gmail.com`];
              const lossy: AttemptDeps = { ...deps(settings), db: losingAnswers(db, (n) => lost[n % lost.length]!) };
              const clean = deps(settings);
              for (const gap of gaps) {
                clock += gap;
                expect(await recordAttempt(lossy, lossyLogin)).to.deep.equal(await recordAttempt(clean, cleanLogin));
              }
              const [lossyState, cleanState] = [await stateOf(lossyLogin), await stateOf(cleanLogin)];
              expect(counters(lossyState)).to.deep.equal(counters(cleanState));
              expect(lossyState!.total, 'attempts counted').to.equal(gaps.length);
            },
          ),
          { numRuns: 15 },
        );
      });

      describe('quick-login check', () => {
        const quick = (mode: 'double' | 'lock') => ({ quickLogin: { mode, minIntervalMilliseconds: 1_000 } });

        it('is off by default: attempts at the same instant count once each and the item keeps no arrival time', async () => {
          for (let i = 1; i <= 5; i++) expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: true, attempts: i });
          expect(await stateOf(EMAIL)).to.not.have.property('lastAttemptAt');
        });

        it('locks at once on an attempt closer than the interval to the previous one (lock), and counts a slower one normally', async () => {
          expect(await recordAttempt(deps(quick('lock')), EMAIL)).to.deep.equal({ allowed: true, attempts: 1 });
          clock += 1_000;
          expect(await recordAttempt(deps(quick('lock')), EMAIL), 'exactly the interval is not quick').to.deep.equal({ allowed: true, attempts: 2 });
          clock += 999;
          expect(await recordAttempt(deps(quick('lock')), EMAIL)).to.deep.include({ allowed: false, reason: 'lock-engaged', retryAt: clock + 300_000 });
          expect(await stateOf(EMAIL)).to.deep.include({ lockCount: 1, total: 3, refused: 1 });
        });

        it('counts a quick attempt twice (double): a burst of attempts 100 ms apart gets 3 where slow ones get 5', async () => {
          const outcomes: AttemptOutcome[] = [];
          for (let i = 0; i < 4; i++) {
            outcomes.push(await recordAttempt(deps(quick('double')), EMAIL));
            clock += 100;
          }
          expect(outcomes).to.deep.equal([
            { allowed: true, attempts: 1 },
            { allowed: true, attempts: 3 },
            { allowed: true, attempts: 5 },
            { allowed: false, reason: 'lock-engaged', retryAt: T0 + 300 + 300_000, lockCount: 1 },
          ]);
        });

        it('refuses a quick attempt that two counts would take past the limit (double), rather than letting it through', async () => {
          for (let i = 0; i < 4; i++) {
            await recordAttempt(deps(quick('double')), EMAIL);
            clock += 1_000;
          }
          clock -= 500;
          expect(await recordAttempt(deps(quick('double')), EMAIL)).to.deep.include({ allowed: false, reason: 'lock-engaged' });
        });

        it('stays exact under 50 parallel attempts at one instant (double): 3 pass, 1 engages the lock, the rest are refused', async () => {
          const outcomes = await Promise.all(Array.from({ length: 50 }, () => recordAttempt(deps(quick('double')), EMAIL)));
          const allowed = outcomes.filter((o) => o.allowed).map((o) => (o as { attempts: number }).attempts).sort();
          expect(allowed).to.deep.equal([1, 3, 5]);
          expect(outcomes.filter((o) => !o.allowed && o.reason === 'lock-engaged')).to.have.length(1);
          // On the production path every refusal is counted too. The emulator fallback spends a read per lost
          // race, so some attempts run out of rounds and are refused as contention, uncounted (still refused).
          if (mode.allOld) expect(await stateOf(EMAIL)).to.deep.include({ total: 50, refused: 47, lockCount: 1 });
          else expect(await stateOf(EMAIL)).to.deep.include({ lockCount: 1 });
        });

        it('gives the outcomes of a plain model of the rule for any timing of sequential attempts (property)', async () => {
          const settings = { maxAttempts: 4, windowSeconds: 60, lockSeconds: 30, escalate: false, maxLockSeconds: 30 };
          let run = 0;
          await fc.assert(
            fc.asyncProperty(
              fc.constantFrom('double' as const, 'lock' as const),
              fc.array(fc.constantFrom(0, 200, 999, 1_000, 5_000, 30_000, 60_000), { minLength: 1, maxLength: 12 }),
              async (mode, gaps) => {
                run++;
                clock = T0;
                const login = `quick${run}@gmail.com`;
                const rule = { ...settings, quickLogin: { mode, minIntervalMilliseconds: 1_000 } };
                // The rule as docs/lockout.md states it, without concurrency.
                const model = { attempts: 0, windowStart: 0, lockedUntil: 0, last: undefined as number | undefined, started: false };
                for (const gap of gaps) {
                  clock += gap;
                  const now = clock;
                  let expected: boolean;
                  if (model.lockedUntil > now) expected = false;
                  else if (!model.started || model.windowStart + 60_000 <= now) {
                    Object.assign(model, { attempts: 1, windowStart: now, last: now, started: true });
                    expected = true;
                  } else {
                    const isQuickAttempt = model.last !== undefined && now - model.last < 1_000;
                    const weight = isQuickAttempt ? (mode === 'lock' ? Infinity : 2) : 1;
                    if (model.attempts + weight <= 4) {
                      Object.assign(model, { attempts: model.attempts + weight, last: now });
                      expected = true;
                    } else {
                      Object.assign(model, { attempts: 0, windowStart: now + 30_000, lockedUntil: now + 30_000 });
                      expected = false;
                    }
                  }
                  expect((await recordAttempt(deps(rule), login)).allowed, `${mode} after ${gaps.join(',')}`).to.equal(expected);
                }
              },
            ),
            { numRuns: 20 },
          );
        });
      });

      it('recognises a retried count that lands after another attempt engaged the lock, and lets it through once', async () => {
        for (let i = 0; i < 4; i++) await recordAttempt(deps(), EMAIL);
        let other: AttemptOutcome | undefined;
        const fifth = await recordAttempt({ ...deps(), db: losingAnswers(db, () => true, async () => void (other = await recordAttempt(deps(), EMAIL))) }, EMAIL);
        expect(fifth).to.deep.equal({ allowed: true, attempts: 5 });
        expect(other).to.deep.include({ allowed: false, reason: 'lock-engaged' });
        expect(await stateOf(EMAIL)).to.deep.include({ attempts: 0, total: 6, refused: 1, lockCount: 1 });
      });

      it('recognises a retried count that lands after another attempt restarted the window, and counts it once', async () => {
        for (let i = 0; i < 2; i++) await recordAttempt(deps(), EMAIL);
        clock = T0 + 900_000 - 1;
        const restartInTheGap = async () => {
          clock = T0 + 900_000;
          expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: true, attempts: 1 });
        };
        const late = await recordAttempt({ ...deps(), db: losingAnswers(db, () => true, restartInTheGap) }, EMAIL);
        expect(late).to.deep.include({ allowed: true });
        expect(await stateOf(EMAIL)).to.deep.include({ attempts: 1, windowStart: T0 + 900_000, total: 4 });
      });

      it('answers a user who does not exist exactly as it answers a real one', async () => {
        const answer = async (event: Parameters<typeof checkSignInAttempt>[1]) =>
          (await checkSignInAttempt(deps(), event).then(() => 'allowed', (e: Error) => `${e.name}: ${e.message}`));
        const real: string[] = [];
        const ghost: string[] = [];
        for (let i = 0; i < 7; i++) real.push(await answer(preAuthenticationEvent()));
        for (let i = 0; i < 7; i++) ghost.push(await answer(preAuthenticationEvent({ userNotFound: true, userName: 'nobody@gmail.com' })));
        expect(ghost).to.deep.equal(real);
        expect(real.slice(5)).to.deep.equal(Array(2).fill('UserFacingError: Too many sign-in attempts. Try again in 5 minutes'));
      });
    });
  }

  describe('post-authentication', () => {
    const recordDeps = (db: DocumentSender = doc): RecordDeps => ({ db, tableName: table, auditRetentionDays: 90, passwordless: true, now: () => clock });
    const audits = async () =>
      (await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :login)', ExpressionAttributeValues: { ':pk': `USER#${SUB}`, ':login': 'LOGIN#' }, ConsistentRead: true }))).Items ?? [];
    const profile = async () => (await doc.send(new GetCommand({ TableName: table, Key: { pk: `USER#${SUB}`, sk: 'PROFILE' }, ConsistentRead: true }))).Item;

    for (const mode of modes) {
      const client = withMode(mode);
      it(`records a sign-in replayed three times (sequentially and in parallel) exactly once, ${mode.name}`, async () => {
        const event = postAuthenticationEvent({ newDeviceUsed: true });
        const first = await recordSignIn(recordDeps(client()), event);
        clock += 5_000;
        const replays = await Promise.all([recordSignIn(recordDeps(client()), event), recordSignIn(recordDeps(client()), event)]);
        clock += 5_000;
        const last = await recordSignIn(recordDeps(client()), event);
        expect(first).to.include({ retry: false, auditWritten: true, profileUpdated: true });
        for (const replay of [...replays, last]) expect(replay).to.include({ retry: true, at: first.at, auditWritten: false, profileUpdated: false });
        const rows = await audits();
        expect(rows).to.have.length(1);
        expect(rows[0]).to.deep.include({ at: new Date(T0).toISOString(), clientId: event.callerContext.clientId, triggerSource: 'PostAuthentication_Authentication', device: { newDeviceUsed: true }, expiresAt: T0 / 1000 + 90 * 86_400 });
        expect(await profile()).to.deep.include({ loginCount: 1, lastLoginAt: new Date(T0).toISOString(), sub: SUB, email: EMAIL });
      });
    }

    it('records two sign-ins with identical content once the dedupe window has passed', async () => {
      const event = postAuthenticationEvent();
      await recordSignIn(recordDeps(), event);
      clock += DEDUPE_WINDOW_SECONDS * 1000;
      const second = await recordSignIn(recordDeps(), event);
      expect(second.retry).to.equal(false);
      expect(await audits()).to.have.length(2);
      expect(await profile()).to.deep.include({ loginCount: 2, lastLoginAt: new Date(clock).toISOString() });
    });

    it('finishes the job on a retry after the first invocation died half-way', async () => {
      const event = postAuthenticationEvent();
      // The first invocation claims the marker and writes the audit row, then the profile update fails.
      const failing: DocumentSender = {
        send: ((command: { constructor: unknown }) =>
          command instanceof UpdateCommand ? Promise.reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' })) : doc.send(command as PutCommand)) as DocumentSender['send'],
      };
      const crashed = await recordSignIn(recordDeps(failing), event).catch((e: Error) => e.name);
      expect(crashed).to.equal('TimeoutError');
      clock += 5_000;
      const retry = await recordSignIn(recordDeps(), event);
      expect(retry).to.include({ retry: true, auditWritten: false, profileUpdated: true });
      expect(await audits()).to.have.length(1);
      expect(await profile()).to.deep.include({ loginCount: 1, lastLoginAt: new Date(T0).toISOString() });
    });

    it('creates the profile of a migrated user who has no row yet, without overwriting an existing one', async () => {
      await recordSignIn(recordDeps(), postAuthenticationEvent({ userName: 'legacy-name' }));
      expect(await profile()).to.deep.include({ sub: SUB, email: EMAIL, createdAt: new Date(T0).toISOString(), loginCount: 1 });

      await doc.send(new PutCommand({ TableName: table, Item: { pk: 'USER#other', sk: 'PROFILE', sub: 'other', email: 'kept@gmail.com', createdAt: '2020-01-01T00:00:00.000Z' } }));
      await recordSignIn(recordDeps(), postAuthenticationEvent({ userAttributes: confirmedUserAttributes({ sub: 'other', email: 'changed@gmail.com' }) }));
      const other = (await doc.send(new GetCommand({ TableName: table, Key: { pk: 'USER#other', sk: 'PROFILE' } }))).Item;
      expect(other).to.deep.include({ email: 'kept@gmail.com', createdAt: '2020-01-01T00:00:00.000Z', loginCount: 1 });
    });

    it('clears the lock and the escalation level so the user starts afresh after signing in', async () => {
      const deps: AttemptDeps = { db: doc, tableName: table, settings: { ...SETTINGS, escalate: true }, now: () => clock };
      for (let i = 0; i < 6; i++) await recordAttempt(deps, EMAIL);
      expect((await stateOf(EMAIL))!.lockedUntil).to.equal(T0 + 300_000);
      const result = await recordSignIn(recordDeps(), postAuthenticationEvent({ userAttributes: confirmedUserAttributes({ email: ' FRODO.Baggins@gmail.com' }) }));
      expect(result.lockoutCleared).to.equal(true);
      expect(await stateOf(EMAIL)).to.equal(undefined);
      expect(await recordAttempt(deps, EMAIL)).to.deep.equal({ allowed: true, attempts: 1 });
      const items = (await doc.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];
      expect(items.map((i) => String(i.pk).split('#')[0]).sort()).to.deep.equal(['DEDUPE', 'LOCKOUT', 'USER', 'USER']);
    });

    it('clears only the counter of the login that signed in: a Kelvin-sign look-alike cannot reset the real account’s guesses', async () => {
      // The attack from the security review: an account whose email is `Kate@gmail.com` written with U+212A
      // signs in successfully between each round of guesses at the real kate@gmail.com.
      const victim = 'kate@gmail.com';
      const lookAlike = { sub: 'look-alike-sub', email: '\u212Aate@gmail.com' };
      const deps: AttemptDeps = { db: doc, tableName: table, settings: SETTINGS, now: () => clock };
      let guessesThrough = 0;
      for (let round = 0; round < 5; round++) {
        for (let guess = 0; guess < SETTINGS.maxAttempts + 1; guess++) {
          const outcome = await checkSignInAttempt(deps, preAuthenticationEvent({ userNotFound: true, userName: victim })).then(() => true, () => false);
          if (outcome) guessesThrough++;
        }
        const attributes = confirmedUserAttributes(lookAlike);
        await checkSignInAttempt(deps, preAuthenticationEvent({ userName: lookAlike.sub, userAttributes: attributes }));
        const signIn = await recordSignIn(recordDeps(), postAuthenticationEvent({ userName: lookAlike.sub, userAttributes: attributes }));
        expect(signIn.lockoutCleared, 'the look-alike clears its own counter').to.equal(true);
        clock += 61_000;
      }
      expect(guessesThrough, 'guesses let through across five rounds').to.equal(SETTINGS.maxAttempts);
      expect(await stateOf(victim)).to.deep.include({ attempts: 0, lockCount: 1, total: 5 * (SETTINGS.maxAttempts + 1) });
    });
  });
});
