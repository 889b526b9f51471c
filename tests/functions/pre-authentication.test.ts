import { DynamoDBClient, InternalServerError, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import type { LockoutSettings } from '../../functions/common/config.ts';
import { GENERIC_MESSAGE, UserFacingError } from '../../functions/common/errors.ts';
import { decayMs, effectiveLevel, expiryFor, lockDurationMs, randomAttemptId, recordAttempt, type AttemptDeps } from '../../functions/pre-authentication/attempts.ts';
import { checkSignInAttempt, describeWait, lockedMessage } from '../../functions/pre-authentication/logic.ts';
import { EMAIL, lambdaContext, preAuthenticationEvent } from '../fixtures/events.ts';
import { withEnvironment } from '../fixtures/env.ts';
import { awsJsonError, conditionFailedAnswer, withAwsEndpoint } from '../fixtures/aws-endpoint.ts';
import { conditionFailed } from '../fixtures/dynamodb.ts';
import { loadHandler } from '../fixtures/handlers.ts';
import { captureLogs, quietLogger } from '../fixtures/logs.ts';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const KEY = { pk: `LOCKOUT#${EMAIL}`, sk: 'STATE' };
const DEFAULTS: LockoutSettings = { maxAttempts: 5, windowSeconds: 900, lockSeconds: 300, escalate: false, maxLockSeconds: 3600, failMode: 'closed' };
/** The id every attempt in this file gets, so requests and stored ids can be asserted. */
const ID = 'attempt-under-test';

type StateOverrides = Partial<Record<'attempts' | 'windowStart' | 'lockedUntil' | 'lockCount' | 'total' | 'refused' | 'expiresAt', number>> &
  Partial<Record<'attemptIds' | 'previousIds', ReadonlySet<string>>> &
  Partial<Record<'lockedBy' | 'lastRefusedId', string>>;

function state(overrides: StateOverrides = {}) {
  return { attempts: 2, windowStart: T0 - 60_000, lockedUntil: 0, lockCount: 0, total: 2, refused: 0, expiresAt: 0, ...overrides };
}

describe('pre-authentication', () => {
  quietLogger();
  // Mocked only while this suite runs: a mock installed at load time would also capture the real
  // clients of every other suite in the same mocha process (the dynalite tests among them).
  let ddb: AwsClientStub<DynamoDBDocumentClient>;
  before(() => {
    ddb = mockClient(DynamoDBDocumentClient);
  });
  after(() => ddb.restore());
  let db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  let clock = T0;
  const deps = (settings: Partial<LockoutSettings> = {}): AttemptDeps => ({ db, tableName: 'users', settings: { ...DEFAULTS, ...settings }, now: () => clock, newAttemptId: () => ID });
  const updates = () => ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);

  beforeEach(() => {
    ddb.reset();
    clock = T0;
    db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  });

  describe('recordAttempt', () => {
    it('counts an attempt inside an open window with one conditional UpdateItem and no read', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: { ...KEY, ...state({ attempts: 3 }) } });
      const outcome = await recordAttempt(deps(), EMAIL);
      expect(outcome).to.deep.equal({ allowed: true, attempts: 3 });
      expect(ddb.calls()).to.have.length(1);
      const [input] = updates();
      expect(input).to.include({ TableName: 'users', ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ReturnValues: 'ALL_NEW' });
      expect(input!.Key).to.deep.equal(KEY);
      expect(input!.UpdateExpression).to.match(/^ADD #attempts :one, #total :one, #attemptIds :idSet SET #windowStart = if_not_exists\(#windowStart, :now\)/);
      expect(input!.ConditionExpression).to.equal(
        '(attribute_not_exists(pk) OR (#attempts < :max AND #windowStart > :windowFloor AND #lockedUntil <= :now)) AND NOT contains(#attemptIds, :id) AND NOT contains(#previousIds, :id)',
      );
      expect(input!.ExpressionAttributeValues).to.deep.include({ ':one': 1, ':max': 5, ':windowFloor': T0 - 900_000, ':now': T0, ':id': ID, ':idSet': new Set([ID]) });
      expect(input!.ExpressionAttributeNames).to.deep.include({ '#attemptIds': 'attemptIds', '#previousIds': 'previousIds' });
    });

    it('creates the state item on a first attempt in that same write, with a TTL at the window end', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: { ...KEY, ...state({ attempts: 1, windowStart: T0, total: 1 }) } });
      const outcome = await recordAttempt(deps(), EMAIL);
      expect(outcome).to.deep.equal({ allowed: true, attempts: 1 });
      const [input] = updates();
      expect(ddb.calls()).to.have.length(1);
      for (const field of ['#lockedUntil', '#lockCount', '#refused']) expect(input!.UpdateExpression).to.include(`${field} = if_not_exists(${field}, :zero)`);
      expect(input!.UpdateExpression).to.include('#expiresAt = if_not_exists(#expiresAt, :expiresAt)');
      expect(input!.ExpressionAttributeValues).to.deep.include({ ':zero': 0, ':expiresAt': (T0 + 900_000) / 1000 });
    });

    it('starts a new window when the old one expired, as a compare-and-set on the state it saw', async () => {
      const old = state({ attempts: 4, windowStart: T0 - 900_000, total: 4 });
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(old)).resolves({});
      const outcome = await recordAttempt(deps(), EMAIL);
      expect(outcome).to.deep.equal({ allowed: true, attempts: 1 });
      const restart = updates()[1]!;
      expect(restart.UpdateExpression).to.match(/^SET #attempts = :one, #windowStart = :now/);
      // The new window holds only this attempt; the old one had no ids (an item from before ids existed), so there is nothing to keep.
      expect(restart.UpdateExpression).to.include('#attemptIds = :idSet').and.match(/ REMOVE #lockOwner, #lockPool, #previousIds$/);
      expect(restart.ConditionExpression).to.equal('#windowStart = :seenWindowStart AND #lockedUntil = :seenLockedUntil AND #lockCount = :seenLockCount AND #attempts = :seenAttempts');
      expect(restart.ExpressionAttributeValues).to.deep.include({ ':seenWindowStart': old.windowStart, ':seenLockedUntil': 0, ':seenLockCount': 0, ':seenAttempts': 4, ':level': 0, ':idSet': new Set([ID]) });
    });

    it('keeps the ids of the window a restart closes, so a late retry from that window is still recognised', async () => {
      const old = state({ attempts: 2, windowStart: T0 - 900_000, attemptIds: new Set(['a1', 'a2']) });
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(old)).resolves({});
      await recordAttempt(deps(), EMAIL);
      const restart = updates()[1]!;
      expect(restart.UpdateExpression).to.equal(
        'SET #attempts = :one, #windowStart = :now, #lockCount = :level, #expiresAt = :expiresAt, #attemptIds = :idSet, #previousIds = :seenIds ADD #total :one REMOVE #lockOwner, #lockPool',
      );
      expect(restart.ExpressionAttributeValues).to.deep.include({ ':seenIds': new Set(['a1', 'a2']) });
    });

    it('lets exactly maxAttempts through and engages the lock on the next attempt, refusing it', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(state({ attempts: 5, total: 5 }))).resolves({});
      const outcome = await recordAttempt(deps(), EMAIL);
      expect(outcome).to.deep.equal({ allowed: false, reason: 'lock-engaged', retryAt: T0 + 300_000, lockCount: 1 });
      const lock = updates()[1]!;
      expect(lock.ConditionExpression).to.equal('#windowStart = :seenWindowStart AND #lockedUntil = :seenLockedUntil AND #attempts = :seenAttempts');
      expect(lock.ExpressionAttributeValues).to.deep.include({ ':lockedUntil': T0 + 300_000, ':level': 1, ':seenAttempts': 5, ':id': ID });
      expect(lock.UpdateExpression).to.include('#refused :one').and.include('#lockedBy = :id').and.match(/ REMOVE #attemptIds, #lockOwner, #lockPool, #previousIds$/);
    });

    it('stamps the lock an existing login engages with its time and owner (username and pool), for the owner notice', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(state({ attempts: 5, total: 5 }))).resolves({});
      await recordAttempt(deps(), EMAIL, { userPoolId: 'eu-west-1_Pool', userName: 'owner-username' });
      const lock = updates()[1]!;
      expect(lock.UpdateExpression).to.include('#lockedAt = :now, #lockOwner = :owner, #lockPool = :pool').and.match(/ REMOVE #attemptIds, #previousIds$/);
      expect(lock.ExpressionAttributeNames).to.deep.include({ '#lockedAt': 'lockedAt', '#lockOwner': 'lockOwner', '#lockPool': 'lockPool' });
      expect(lock.ExpressionAttributeValues).to.deep.include({ ':owner': 'owner-username', ':pool': 'eu-west-1_Pool', ':now': T0 });
    });

    it('names the owner only in the write that engages a lock: counting, restarting and refusing writes remove it', async () => {
      const owner = { userPoolId: 'eu-west-1_Pool', userName: 'owner-username' };
      const locked = state({ attempts: 0, windowStart: T0 + 1, lockedUntil: T0 + 1, lockCount: 1 });
      const writes: ReturnType<typeof updates> = [];
      for (const arrange of [
        () => ddb.on(UpdateCommand).resolves({ Attributes: { ...KEY, ...state({ attempts: 1 }) } }),
        () => ddb.on(UpdateCommand).rejectsOnce(conditionFailed(state({ windowStart: T0 - 900_000 }))).resolves({}),
        () => ddb.on(UpdateCommand).rejectsOnce(conditionFailed(locked)).resolves({ Attributes: { ...KEY, ...locked } }),
      ]) {
        ddb.reset();
        arrange();
        await recordAttempt(deps(), EMAIL, owner);
        writes.push(updates().at(-1)!);
      }
      expect(writes.map((w) => w.UpdateExpression!.split(' ')[0] + ' ' + w.UpdateExpression!.split(' ')[1])).to.deep.equal(['ADD #attempts', 'SET #attempts', 'SET #lastRefusedId']);
      for (const write of writes) {
        expect(write.UpdateExpression).to.match(/ REMOVE #lockOwner, #lockPool/);
        expect(write.ExpressionAttributeValues).to.not.have.any.keys(':owner', ':pool');
      }
    });

    it('starts the window after a lock without ids and keeps the ids of the window the lock closed', async () => {
      const ids = new Set(['a1', 'a2', 'a3', 'a4', 'a5']);
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(state({ attempts: 5, total: 5, attemptIds: ids }))).resolves({});
      await recordAttempt(deps(), EMAIL);
      const lock = updates()[1]!;
      expect(lock.UpdateExpression).to.equal(
        'SET #attempts = :zero, #windowStart = :lockedUntil, #lockedUntil = :lockedUntil, #lockCount = :level, #expiresAt = :expiresAt, #lockedBy = :id, ' +
          '#lockedAt = :now, #previousIds = :seenIds ADD #total :one, #refused :one REMOVE #attemptIds, #lockOwner, #lockPool',
      );
      expect(lock.ExpressionAttributeValues).to.deep.include({ ':seenIds': ids });
    });

    it('refuses attempts during a lock, counts them as refused and never touches lockedUntil', async () => {
      const locked = state({ attempts: 0, windowStart: T0 + 120_000, lockedUntil: T0 + 120_000, lockCount: 1, total: 6, refused: 1 });
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(locked)).resolves({ Attributes: { ...KEY, ...locked, total: 7, refused: 2 } });
      const outcome = await recordAttempt(deps(), EMAIL);
      expect(outcome).to.deep.equal({ allowed: false, reason: 'locked', retryAt: T0 + 120_000, lockCount: 1 });
      const refuse = updates()[1]!;
      expect(refuse.UpdateExpression).to.equal('SET #lastRefusedId = :id ADD #total :one, #refused :one REMOVE #lockOwner, #lockPool');
      expect(refuse.ConditionExpression).to.equal('#lockedUntil > :now AND (attribute_not_exists(#lastRefusedId) OR #lastRefusedId <> :id)');
      expect(refuse.ExpressionAttributeValues).to.deep.equal({ ':one': 1, ':now': T0, ':id': ID });
      expect(JSON.stringify(refuse.ExpressionAttributeValues)).not.to.include(String(T0 + 120_000));
    });

    it('lets a login through again once its lock has ended, with a fresh allowance', async () => {
      const ended = state({ attempts: 0, windowStart: T0 - 1, lockedUntil: T0 - 1, lockCount: 1 });
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(ended)).resolves({ Attributes: { ...ended, attempts: 1 } });
      // The first write already succeeds in reality; here it fails once to show the state is read as "count".
      const outcome = await recordAttempt(deps(), EMAIL);
      expect(outcome).to.deep.equal({ allowed: true, attempts: 1 });
      expect(updates()[1]!.UpdateExpression).to.equal(updates()[0]!.UpdateExpression);
    });

    it('refuses when it loses the race to engage the lock, because the winner already locked the login', async () => {
      const full = state({ attempts: 5, total: 5 });
      const locked = state({ attempts: 0, windowStart: T0 + 300_000, lockedUntil: T0 + 300_000, lockCount: 1, total: 6, refused: 1 });
      ddb.on(UpdateCommand)
        .rejectsOnce(conditionFailed(full))
        .rejectsOnce(conditionFailed(locked))
        .resolves({ Attributes: { ...locked, total: 7, refused: 2 } });
      const outcome = await recordAttempt(deps(), EMAIL);
      expect(outcome).to.deep.include({ allowed: false, reason: 'locked', retryAt: T0 + 300_000 });
      expect(updates()).to.have.length(3);
    });

    it('falls back to a consistent read only when the store does not return ALL_OLD (local emulators)', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({ Attributes: state({ attempts: 3 }) });
      ddb.on(GetCommand).resolves({ Item: { ...KEY, ...state({ attempts: 2 }) } });
      const outcome = await recordAttempt(deps(), EMAIL);
      expect(outcome).to.deep.equal({ allowed: true, attempts: 3 });
      const get = ddb.commandCalls(GetCommand);
      expect(get).to.have.length(1);
      expect(get[0]!.args[0].input).to.deep.include({ ConsistentRead: true, Key: KEY });
      expect(updates()).to.have.length(2);
    });

    it('goes back to count-or-create when the item vanished between the failed write and the read', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({ Attributes: state({ attempts: 1 }) });
      ddb.on(GetCommand).resolves({});
      const outcome = await recordAttempt(deps(), EMAIL);
      expect(outcome).to.deep.equal({ allowed: true, attempts: 1 });
      expect(updates()[1]!.ConditionExpression).to.match(/^\(attribute_not_exists\(pk\) OR/);
    });

    it('retries count-or-create when a compare-and-set fails without an item (deleted meanwhile by a sign-in)', async () => {
      ddb.on(UpdateCommand)
        .rejectsOnce(conditionFailed(state({ attempts: 5 })))
        .rejectsOnce(conditionFailed())
        .resolves({ Attributes: state({ attempts: 1 }) });
      const outcome = await recordAttempt(deps(), EMAIL);
      expect(outcome).to.deep.equal({ allowed: true, attempts: 1 });
      expect(updates()[2]!.UpdateExpression).to.equal(updates()[0]!.UpdateExpression);
      expect(ddb.commandCalls(GetCommand)).to.have.length(0);
    });

    it('refuses rather than allows when the state keeps changing under it round after round', async () => {
      let flip = 0;
      ddb.on(UpdateCommand).callsFake(() => {
        flip++;
        // Alternate between "limit reached" and "window expired" so every compare-and-set loses.
        throw conditionFailed(flip % 2 ? state({ attempts: 5, windowStart: T0 - flip }) : state({ attempts: 5, windowStart: T0 - 900_000 - flip }));
      });
      const outcome = await recordAttempt(deps(), EMAIL);
      expect(outcome).to.deep.include({ allowed: false, reason: 'contention', retryAt: T0 + 300_000 });
      expect(updates()).to.have.length(8);
    });

    it('propagates DynamoDB failures other than a failed condition', async () => {
      ddb.on(UpdateCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));
      const error = await recordAttempt(deps(), EMAIL).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(InternalServerError);
    });

    it('keys logins longer than 256 characters by their hash so no input can break the key size limit', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: state({ attempts: 1 }) });
      await recordAttempt(deps(), `${'a'.repeat(5000)}@gmail.com`);
      expect(updates()[0]!.Key!.pk).to.match(/^LOCKOUT#sha256:[0-9a-f]{64}$/);
    });
  });

  describe('a write DynamoDB applied whose answer was lost (the SDK sends it again)', () => {
    // What the client sees is the resent request failing its condition, with the item that the first
    // copy already changed. These tests give exactly that answer and check that the attempt gets the
    // verdict the first copy earned, with no further write.
    const locked = { attempts: 0, windowStart: T0 + 300_000, lockedUntil: T0 + 300_000, lockCount: 1 };

    it('a retried count returns allowed with the stored count and adds no second attempt', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(state({ attempts: 3, total: 3, attemptIds: new Set(['a1', 'a2', ID]) })));
      expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: true, attempts: 3 });
      expect(ddb.calls()).to.have.length(1);
    });

    it('a retried count that lands as the limit is reached is still allowed, not turned into a lock', async () => {
      // Without the id this state (5 of 5) would engage the lock and refuse the very attempt that was let through.
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(state({ attempts: 5, total: 5, attemptIds: new Set(['a1', 'a2', 'a3', 'a4', ID]) })));
      expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: true, attempts: 5 });
      expect(ddb.calls()).to.have.length(1);
    });

    it('a retried restart returns allowed as the first attempt of the new window and writes nothing more', async () => {
      ddb.on(UpdateCommand)
        .rejectsOnce(conditionFailed(state({ attempts: 4, windowStart: T0 - 900_000, total: 4 })))
        .rejectsOnce(conditionFailed(state({ attempts: 1, windowStart: T0, total: 5, attemptIds: new Set([ID]) })));
      expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: true, attempts: 1 });
      expect(updates()).to.have.length(2);
    });

    it('a retried lock returns lock-engaged with the stored lock, not a second refusal', async () => {
      ddb.on(UpdateCommand)
        .rejectsOnce(conditionFailed(state({ attempts: 5, total: 5 })))
        .rejectsOnce(conditionFailed(state({ ...locked, total: 6, refused: 1, lockedBy: ID })));
      expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: false, reason: 'lock-engaged', retryAt: T0 + 300_000, lockCount: 1 });
      expect(updates()).to.have.length(2);
    });

    it('a retried refusal returns locked and is not counted again', async () => {
      ddb.on(UpdateCommand)
        .rejectsOnce(conditionFailed(state({ ...locked, total: 6, refused: 1, lastRefusedId: 'someone-else' })))
        .rejectsOnce(conditionFailed(state({ ...locked, total: 7, refused: 2, lastRefusedId: ID })));
      expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: false, reason: 'locked', retryAt: T0 + 300_000, lockCount: 1 });
      expect(updates()).to.have.length(2);
    });

    it('a retried count that lands after another attempt locked the login is still allowed', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(state({ ...locked, total: 6, refused: 1, lockedBy: 'attempt-6', previousIds: new Set(['a1', 'a2', 'a3', 'a4', ID]) })));
      expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: true, attempts: 5 });
      expect(updates()).to.have.length(1);
    });

    it('a retried count that lands after another attempt restarted the window is still allowed, and not counted again', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(state({ attempts: 1, windowStart: T0, attemptIds: new Set(['next-window']), previousIds: new Set(['a1', ID]) })));
      expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: true, attempts: 2 });
      expect(updates()).to.have.length(1);
    });

    it('recognises its own write through the consistent read when the store omits ALL_OLD (local emulators)', async () => {
      ddb.on(UpdateCommand).rejects(conditionFailed());
      ddb.on(GetCommand).resolves({ Item: { ...KEY, ...state({ attempts: 3, attemptIds: new Set(['a1', 'a2', ID]) }) } });
      expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: true, attempts: 3 });
      expect(updates()).to.have.length(1);
      expect(ddb.commandCalls(GetCommand)).to.have.length(1);
    });

    it('recognises a lock it engaged through the read, after the compare-and-set fails without ALL_OLD', async () => {
      ddb.on(UpdateCommand).rejects(conditionFailed());
      ddb.on(GetCommand)
        .resolvesOnce({ Item: { ...KEY, ...state({ attempts: 5, total: 5 }) } })
        .resolves({ Item: { ...KEY, ...state({ ...locked, total: 6, refused: 1, lockedBy: ID }) } });
      expect(await recordAttempt(deps(), EMAIL)).to.deep.equal({ allowed: false, reason: 'lock-engaged', retryAt: T0 + 300_000, lockCount: 1 });
      // count, lock (its retry fails), count-or-create again (fails: locked), each followed by the read that feeds the next step.
      expect(updates().map((u) => u.UpdateExpression!.slice(0, 14))).to.deep.equal(['ADD #attempts ', 'SET #attempts ', 'ADD #attempts ']);
    });

    it('does not mistake another attempt\'s ids for its own', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(state({ attempts: 5, total: 5, attemptIds: new Set(['a1', 'a2', 'a3', 'a4', 'a5']), previousIds: new Set(['b1']), lockedBy: 'x', lastRefusedId: 'y' }))).resolves({});
      expect(await recordAttempt(deps(), EMAIL)).to.deep.include({ allowed: false, reason: 'lock-engaged' });
      expect(updates()).to.have.length(2);
    });

    it('gives every attempt its own id by default: 128 random bits, compact because the ids are stored in the item', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: state({ attempts: 1 }) });
      const { newAttemptId: _fixed, ...defaults } = deps();
      await recordAttempt(defaults, EMAIL);
      await recordAttempt(defaults, EMAIL);
      const [first, second] = updates().map((u) => u.ExpressionAttributeValues![':id'] as string);
      expect(first).to.match(/^[A-Za-z0-9_-]{22}$/);
      expect(second).to.match(/^[A-Za-z0-9_-]{22}$/);
      expect(first).not.to.equal(second);
      expect(new Set(Array.from({ length: 1000 }, randomAttemptId)).size).to.equal(1000);
    });
  });

  describe('escalation', () => {
    const escalating: LockoutSettings = { ...DEFAULTS, escalate: true, lockSeconds: 60, maxLockSeconds: 900 };

    it('doubles each further lock up to the cap, and keeps every lock equal when escalation is off', () => {
      expect([0, 1, 2, 3, 4, 5, 40].map((level) => lockDurationMs(escalating, level) / 1000)).to.deep.equal([60, 120, 240, 480, 900, 900, 900]);
      expect([0, 1, 7].map((level) => lockDurationMs(DEFAULTS, level) / 1000)).to.deep.equal([300, 300, 300]);
    });

    it('engages the third lock at four times the first when the level has not decayed', async () => {
      const full = state({ attempts: 5, windowStart: T0 - 10_000, lockedUntil: T0 - 10_000, lockCount: 2 });
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(full)).resolves({});
      const outcome = await recordAttempt(deps(escalating), EMAIL);
      expect(outcome).to.deep.equal({ allowed: false, reason: 'lock-engaged', retryAt: T0 + 240_000, lockCount: 3 });
    });

    it('forgets the level once a whole maxLockSeconds passed after the last lock ended', async () => {
      const lastLockEnded = T0 - decayMs(escalating);
      const full = state({ attempts: 5, windowStart: T0 - 1_000, lockedUntil: lastLockEnded, lockCount: 4 });
      expect(effectiveLevel(full, escalating, T0)).to.equal(0);
      expect(effectiveLevel(full, escalating, T0 - 1)).to.equal(4);
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(full)).resolves({});
      const outcome = await recordAttempt(deps(escalating), EMAIL);
      expect(outcome).to.deep.equal({ allowed: false, reason: 'lock-engaged', retryAt: T0 + 60_000, lockCount: 1 });
    });

    it('carries the level into a new window while it has not decayed, and drops it when it has', async () => {
      const shortWindow = { ...escalating, windowSeconds: 300 };
      const recent = state({ attempts: 1, windowStart: T0 - 300_000, lockedUntil: T0 - 300_000, lockCount: 2 });
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(recent)).resolves({});
      await recordAttempt(deps(shortWindow), EMAIL);
      expect(updates()[1]!.ExpressionAttributeValues).to.deep.include({ ':level': 2 });

      ddb.reset();
      const old = { ...recent, windowStart: T0 - 300_000 - decayMs(escalating), lockedUntil: T0 - 300_000 - decayMs(escalating) };
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(old)).resolves({});
      await recordAttempt(deps(shortWindow), EMAIL);
      expect(updates()[1]!.ExpressionAttributeValues).to.deep.include({ ':level': 0 });
    });

    it('keeps the item (TTL) until both the window and the escalation memory are over', () => {
      expect(expiryFor(T0, 0, DEFAULTS)).to.equal((T0 + 900_000) / 1000);
      expect(expiryFor(T0, T0 + 60_000, escalating)).to.equal((T0 + 60_000 + 900_000) / 1000);
      expect(expiryFor(T0, T0 + 10_000_000, DEFAULTS)).to.equal((T0 + 10_000_000 + 3_600_000) / 1000);
    });
  });

  describe('the message', () => {
    it('says when to try again, rounded up, in minutes or hours', () => {
      expect(describeWait(T0 + 1, T0)).to.equal('1 minute');
      expect(describeWait(T0 + 60_000, T0)).to.equal('1 minute');
      expect(describeWait(T0 + 61_000, T0)).to.equal('2 minutes');
      expect(describeWait(T0 + 300_000, T0)).to.equal('5 minutes');
      expect(describeWait(T0 + 119 * 60_000, T0)).to.equal('119 minutes');
      expect(describeWait(T0 + 24 * 3_600_000, T0)).to.equal('24 hours');
      expect(describeWait(T0 - 5_000, T0)).to.equal('1 minute');
    });

    it('is generic: no account, no address, no hint that a user exists', () => {
      const message = lockedMessage(T0 + 300_000, T0);
      expect(message).to.equal('Too many sign-in attempts. Try again in 5 minutes');
      expect(message).not.to.match(/account|user|exist|password|@/i);
    });
  });

  describe('checkSignInAttempt', () => {
    const lockedItem = state({ attempts: 0, windowStart: T0 + 300_000, lockedUntil: T0 + 300_000, lockCount: 1, total: 6, refused: 1 });

    it('lets an attempt under the limit go on to the password check', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: state({ attempts: 1 }) });
      await checkSignInAttempt(deps(), preAuthenticationEvent());
      expect(updates()[0]!.Key).to.deep.equal(KEY);
    });

    it('keys a real user by the normalised email, not the username Cognito generated', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: state({ attempts: 1 }) });
      await checkSignInAttempt(deps(), preAuthenticationEvent({ userAttributes: { sub: 's', email: '  Frodo.Baggins@GMAIL.com ' } }));
      expect(updates()[0]!.Key).to.deep.equal(KEY);
    });

    it('refuses a locked login with the generic try-again message as a UserFacingError', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(lockedItem)).resolves({ Attributes: lockedItem });
      const error = await checkSignInAttempt(deps(), preAuthenticationEvent()).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UserFacingError).with.property('message', 'Too many sign-in attempts. Try again in 5 minutes');
      expect(error).to.have.property('reason', 'locked');
    });

    it('throttles a user who does not exist exactly like a real one: same key, same requests, same message', async () => {
      const run = async (event: Parameters<typeof checkSignInAttempt>[1]) => {
        ddb.reset();
        ddb.on(UpdateCommand).rejectsOnce(conditionFailed(lockedItem)).resolves({ Attributes: lockedItem });
        const error = await checkSignInAttempt(deps(), event).catch((e: unknown) => e);
        return { message: (error as Error).message, name: (error as Error).name, requests: ddb.calls().map((c) => JSON.stringify(c.args[0].input)) };
      };
      const real = await run(preAuthenticationEvent());
      const ghost = await run(preAuthenticationEvent({ userNotFound: true, userName: ' Frodo.Baggins@Gmail.COM' }));
      expect(ghost).to.deep.equal(real);
      expect(real.requests).to.have.length(2);
    });

    it('answers the attempt that locks an existing login and the one that locks an unknown login byte for byte alike; only the existing lock names its owner', async () => {
      const full = state({ attempts: 5, total: 5 });
      const run = async (event: Parameters<typeof checkSignInAttempt>[1]) => {
        ddb.reset();
        ddb.on(UpdateCommand).rejectsOnce(conditionFailed(full)).resolves({});
        const error = await checkSignInAttempt(deps(), event).catch((e: unknown) => e);
        const lock = updates()[1]!;
        return { answer: Buffer.from(JSON.stringify([(error as Error).name, (error as Error).message, (error as UserFacingError).reason])), lock };
      };
      const real = await run(preAuthenticationEvent({ userName: 'frodo-username' }));
      const ghost = await run(preAuthenticationEvent({ userNotFound: true, userName: EMAIL }));
      expect(ghost.answer.equals(real.answer), `${ghost.answer} vs ${real.answer}`).to.equal(true);
      expect(real.answer.toString()).to.include('Too many sign-in attempts. Try again in 5 minutes');
      expect(real.lock.Key).to.deep.equal(ghost.lock.Key);
      expect(real.lock.ExpressionAttributeValues).to.deep.include({ ':owner': 'frodo-username' });
      expect(ghost.lock.ExpressionAttributeValues).to.not.have.any.keys(':owner', ':pool');
      expect(ghost.lock.UpdateExpression).to.include('REMOVE #attemptIds, #lockOwner, #lockPool');
    });

    it('keys a user who does not exist by the typed username and lets them through while under the limit', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: state({ attempts: 1 }) });
      await checkSignInAttempt(deps(), preAuthenticationEvent({ userNotFound: true, userName: 'Nobody@Example.com' }));
      expect(updates()[0]!.Key).to.deep.equal({ pk: 'LOCKOUT#nobody@example.com', sk: 'STATE' });
    });

    it('counts a migrating user (no profile row, no email attribute yet) by username without any profile lookup', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: state({ attempts: 1 }) });
      await checkSignInAttempt(deps(), preAuthenticationEvent({ userName: 'Legacy-User', userAttributes: { sub: 'abc' } }));
      expect(updates()[0]!.Key).to.deep.equal({ pk: 'LOCKOUT#legacy-user', sk: 'STATE' });
      expect(ddb.calls()).to.have.length(1);
    });

    it('fails closed by default: a DynamoDB outage refuses the sign-in with the generic message', async () => {
      ddb.on(UpdateCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));
      const error = await checkSignInAttempt(deps(), preAuthenticationEvent()).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UserFacingError).with.property('message', GENERIC_MESSAGE);
      expect(error).to.have.property('reason', 'lockout-unavailable');
    });

    it('fails closed on a timeout too', async () => {
      ddb.on(UpdateCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
      const error = await checkSignInAttempt(deps(), preAuthenticationEvent()).catch((e: unknown) => e);
      expect(error).to.have.property('reason', 'lockout-unavailable');
    });

    it('fails open when configured: an outage lets the attempt go on to the password check', async () => {
      ddb.on(UpdateCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));
      const logs = (await captureLogs(() => checkSignInAttempt(deps({ failMode: 'open' }), preAuthenticationEvent()))).output;
      expect(logs).to.include('fail-open');
      await checkSignInAttempt(deps({ failMode: 'open' }), preAuthenticationEvent());
    });

    it('stays closed on throttling even in fail-open mode, since flooding one login is how throttling is caused', async () => {
      ddb.on(UpdateCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
      const error = await checkSignInAttempt(deps({ failMode: 'open' }), preAuthenticationEvent()).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UserFacingError).with.property('reason', 'lockout-unavailable');
    });

    it('refuses an event without any login with the generic message and touches nothing', async () => {
      const event = { ...preAuthenticationEvent({ userNotFound: true }), userName: '   ' };
      const error = await checkSignInAttempt(deps(), event).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UserFacingError).with.property('message', GENERIC_MESSAGE);
      expect(ddb.calls()).to.have.length(0);
    });

    it('copes with an event missing request entirely by counting the username', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: state({ attempts: 1 }) });
      const event = preAuthenticationEvent({ userName: 'someone@gmail.com' });
      Reflect.deleteProperty(event, 'request');
      await checkSignInAttempt(deps(), event);
      expect(updates()[0]!.Key!.pk).to.equal('LOCKOUT#someone@gmail.com');
    });

    it('never logs the email or username, only a fingerprint', async () => {
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed(lockedItem)).resolves({ Attributes: lockedItem });
      const refused = (await captureLogs(() => checkSignInAttempt(deps(), preAuthenticationEvent()))).output;
      ddb.reset();
      ddb.on(UpdateCommand).resolves({ Attributes: state({ attempts: 1 }) });
      const allowed = (await captureLogs(() => checkSignInAttempt(deps(), preAuthenticationEvent({ userNotFound: true, userName: 'ghost@gmail.com' })))).output;
      for (const logs of [refused, allowed]) {
        expect(logs).to.include('"login":');
        expect(logs.toLowerCase()).not.to.include('frodo');
        expect(logs.toLowerCase()).not.to.include('ghost@');
      }
    });
  });

  describe('handler', () => {
    const env = { TABLE_NAME: 'users', LOCKOUT_MAX_ATTEMPTS: '5', LOCKOUT_FAIL_MODE: 'closed' };
    withEnvironment(env);
    // The handler's client is the synchronous triggers' own (functions/common/aws-clients.ts): a loopback endpoint answers it.
    const aws = withAwsEndpoint();
    beforeEach(() => aws.reset());

    it('returns the event unchanged when the attempt may proceed', async () => {
      const { handler } = await loadHandler<typeof import('../../functions/pre-authentication/index.ts')>('pre-authentication');
      aws.on('UpdateItem', () => ({ Attributes: marshall(state({ attempts: 1 })) }));
      const event = preAuthenticationEvent();
      expect(await handler(event, lambdaContext('pre-authentication'))).to.equal(event);
      expect(aws.inputs('UpdateItem')[0]!.TableName).to.equal('users');
    });

    it('throws the lock message for Cognito to show, and the generic message for anything unexpected', async () => {
      const { handler } = await loadHandler<typeof import('../../functions/pre-authentication/index.ts')>('pre-authentication');
      let updateCount = 0;
      aws.on('UpdateItem', () => (updateCount++ === 0 ? conditionFailedAnswer(marshall(lockedItem())) : { Attributes: marshall(lockedItem()) }));
      const locked = await handler(preAuthenticationEvent()).catch((e: unknown) => e);
      // The handler is imported after its environment is set, through a separate module graph, so errors are matched by name.
      expect(locked).to.have.property('name', 'UserFacingError');
      expect((locked as Error).message).to.match(/^Too many sign-in attempts\. Try again in \d+ minutes?$/);

      aws.reset();
      aws.on('UpdateItem', () => awsJsonError('ValidationException', 400, 'unexpected'));
      const failed = await handler(preAuthenticationEvent()).catch((e: unknown) => e);
      expect(failed).to.include({ name: 'UserFacingError', message: GENERIC_MESSAGE });
    });

    function lockedItem() {
      const until = Date.now() + 300_000;
      return state({ attempts: 0, windowStart: until, lockedUntil: until, lockCount: 1 });
    }
  });
});
