/**
 * Counting sign-in attempts and locking a login out, with conditional writes only.
 *
 * Every attempt is one conditional UpdateItem on the login's state item. The common cases (a first
 * attempt, or one inside an open window under the limit) succeed at that first write. When its
 * condition fails, DynamoDB hands back
 * the item as it was at that instant (ReturnValuesOnConditionCheckFailure ALL_OLD); from that state
 * we pick the one transition that applies and attempt it as a compare-and-set on the observed values.
 * A lost race shows up as another failed condition with fresher state, so no decision is ever made
 * on a stale read and no attempt is counted twice or lost.
 *
 * Every write also carries the attempt's own id and refuses to apply twice. When DynamoDB applied a
 * write but its answer was lost, the SDK sends the same request again; that copy fails its condition,
 * and the item it returns holds the id, so the attempt gets the verdict the first copy earned instead
 * of being counted a second time.
 *
 * With the quick-login check on, every counting write also stores when the attempt arrived, and the
 * common write only applies to an attempt that is not quick; a quick one fails that condition, learns
 * the state, and takes the quick transition (count twice, or lock) as a compare-and-set like the rest.
 *
 * The write that engages a lock on an existing account also names its owner (`lockOwner`, `lockPool`),
 * and every other write removes them, so the one stream record carrying them is that lock's:
 * notify-lockout's event source mapping passes only records with them (functions/notify-lockout/).
 * See docs/lockout.md.
 */
import { randomBytes } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LockoutSettings } from '../common/config.ts';
import { lockoutKey, parseLockoutState, type DocumentSender, type LockoutState } from '../common/lockout.ts';
import { LOCK_NOTICE_ATTRIBUTES } from '../common/table.ts';

/** What the attempt counter needs. */
export interface AttemptDeps {
  readonly db: DocumentSender;
  readonly tableName: string;
  readonly settings: LockoutSettings;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /**
   * A new id for each attempt, never reused for the same login. It is what lets a write that DynamoDB
   * applied, but whose answer was lost, be recognised when the SDK sends it again. Defaults to 128
   * random bits; tests fix it.
   */
  readonly newAttemptId?: () => string;
}

/** 128 random bits in 22 characters: the ids live in the item, and every write is billed on its size. */
export function randomAttemptId(): string {
  return randomBytes(16).toString('base64url');
}

/** Why an attempt was refused. */
export type RefusalReason =
  /** This attempt exceeded the limit and engaged a new lock. */
  | 'lock-engaged'
  /** A lock was already in force; it is not lengthened. */
  | 'locked'
  /** The state kept changing under us (a flood of parallel attempts); refused to stay safe. */
  | 'contention';

/** The verdict on one attempt. */
export type AttemptOutcome =
  | { readonly allowed: true; /** Attempts let through in this window, this one included. */ readonly attempts: number }
  | { readonly allowed: false; readonly reason: RefusalReason; /** When the login may try again (epoch ms). */ readonly retryAt: number; /** Lock level after this attempt. */ readonly lockCount: number };

/**
 * Each round is one conditional write. A round only fails because another writer changed the item,
 * and the longest chain of legitimate transitions (count → lock → refuse) needs three; the spare
 * rounds absorb races, and running out is treated as a refusal, never as a pass.
 */
const MAX_ROUNDS = 8;

/** What we know about the item before a write. */
type Knowledge =
  /** Nothing, or that there is no item: the count-or-create write covers both. */
  | { readonly kind: 'unknown' }
  /** An item exists but its content was not returned (only local emulators omit ALL_OLD). */
  | { readonly kind: 'exists' }
  | { readonly kind: 'state'; readonly state: LockoutState };

/** Length of the lock that the level-th lock (0-based, after decay) gets. */
export function lockDurationMs(settings: LockoutSettings, level: number): number {
  if (!settings.escalate) return settings.lockSeconds * 1000;
  // 2^30 × even one second is far past any cap, so the exponent is bounded to keep the arithmetic exact.
  const factor = 2 ** Math.min(Math.max(level, 0), 30);
  return Math.min(settings.lockSeconds * factor, settings.maxLockSeconds) * 1000;
}

/**
 * How long a lock is remembered for escalation after it ends: as long as the longest lock. A login
 * that stays quiet that long (or signs in successfully) starts again from the first, shortest lock.
 */
export function decayMs(settings: LockoutSettings): number {
  return settings.maxLockSeconds * 1000;
}

/** The escalation level in force at `now`, after decay. */
export function effectiveLevel(state: LockoutState, settings: LockoutSettings, now: number): number {
  if (state.lockCount <= 0 || state.lockedUntil <= 0) return 0;
  return now < state.lockedUntil + decayMs(settings) ? state.lockCount : 0;
}

/** The TTL (epoch seconds) after which the item carries no information the algorithm still uses. */
export function expiryFor(windowStart: number, lockedUntil: number, settings: LockoutSettings): number {
  const windowEnd = windowStart + settings.windowSeconds * 1000;
  const levelForgotten = lockedUntil > 0 ? lockedUntil + decayMs(settings) : 0;
  return Math.ceil(Math.max(windowEnd, levelForgotten) / 1000);
}

type Transition = 'count' | 'count-double' | 'restart' | 'lock' | 'refuse' | 'read';

/** Whether the quick-login check applies to an attempt at `now` after the state's last counted one. */
export function isQuick(state: LockoutState, settings: LockoutSettings, now: number): boolean {
  const quick = settings.quickLogin;
  if (!quick || quick.mode === 'off' || state.lastAttemptAt === undefined) return false;
  return now - state.lastAttemptAt < quick.minIntervalMilliseconds;
}

function nextTransition(knowledge: Knowledge, settings: LockoutSettings, now: number): Transition {
  switch (knowledge.kind) {
    case 'unknown':
      return 'count';
    case 'exists':
      return 'read';
    case 'state': {
      const { state } = knowledge;
      if (state.lockedUntil > now) return 'refuse';
      if (state.windowStart + settings.windowSeconds * 1000 <= now) return 'restart';
      if (isQuick(state, settings, now)) {
        if (settings.quickLogin?.mode === 'lock') return 'lock';
        // Counting twice must still fit the allowance; an attempt it would not fit engages the lock.
        return state.attempts + 2 <= settings.maxAttempts ? 'count-double' : 'lock';
      }
      if (state.attempts < settings.maxAttempts) return 'count';
      return 'lock';
    }
  }
}

/**
 * The verdict this attempt already earned, when the item shows that one of its own writes took effect
 * (DynamoDB applied it, the answer was lost, and what we see now is the SDK's retry failing). An attempt
 * stops at the first of its writes that applies, so at most one of these matches.
 */
function alreadyRecorded(state: LockoutState, attemptId: string): AttemptOutcome | undefined {
  if (state.attemptIds?.has(attemptId)) return { allowed: true, attempts: state.attempts };
  // Counted in the window that a concurrent attempt closed (by a lock or a restart) before the retry landed.
  if (state.previousIds?.has(attemptId)) return { allowed: true, attempts: state.previousIds.size };
  if (state.lockedBy === attemptId) return { allowed: false, reason: 'lock-engaged', retryAt: state.lockedUntil, lockCount: state.lockCount };
  if (state.lastRefusedId === attemptId) return { allowed: false, reason: 'locked', retryAt: state.lockedUntil, lockCount: state.lockCount };
  return undefined;
}

/**
 * The window that a restart or a lock closes is kept as `previousIds`. DynamoDB stores no empty set,
 * so an empty one is removed instead. The compare-and-set that carries it guarantees these are still
 * the item's ids: they change only together with `attempts` or `windowStart`, which it compares.
 */
function closeWindow(state: LockoutState): { set?: string; remove?: string; values: Record<string, unknown> } {
  if (!state.attemptIds) return { remove: '#previousIds', values: {} };
  return { set: '#previousIds = :seenIds', values: { ':seenIds': new Set(state.attemptIds) } };
}

/** The user a login belongs to, when it belongs to one: what the owner's notice of a lock needs. */
export interface LockOwner {
  readonly userPoolId: string;
  /** The Cognito username (never the address). */
  readonly userName: string;
}

/** The owner attributes in expressions; every write but an owner's lock removes them. */
const OWNER_NAMES = { '#lockOwner': LOCK_NOTICE_ATTRIBUTES.owner, '#lockPool': LOCK_NOTICE_ATTRIBUTES.pool } as const;
const REMOVE_OWNER = '#lockOwner, #lockPool';

function isConditionFailure(error: unknown): error is Error & { Item?: unknown } {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * Records one sign-in attempt for `login` and says whether it may proceed to the password check.
 * `owner` is the user the login belongs to, absent for a login that does not exist: a lock it engages
 * is stamped with it, so that its owner is told; a lock on an unknown login carries none, so nobody is.
 * Throws only when DynamoDB itself fails; the caller applies the configured fail mode.
 */
export async function recordAttempt(deps: AttemptDeps, login: string, owner?: LockOwner): Promise<AttemptOutcome> {
  const { db, tableName, settings } = deps;
  const Key = lockoutKey(login);
  const attemptId = (deps.newAttemptId ?? randomAttemptId)();
  const idSet = new Set([attemptId]);
  const windowMs = settings.windowSeconds * 1000;
  let knowledge: Knowledge = { kind: 'unknown' };
  let lastSeen: LockoutState | undefined;
  // Off, the writes are exactly what they were before the check existed.
  const quickMs = settings.quickLogin && settings.quickLogin.mode !== 'off' ? settings.quickLogin.minIntervalMilliseconds : undefined;
  const stamp = (): { set: string; names: Record<string, string> } =>
    quickMs === undefined ? { set: '', names: {} } : { set: ', #lastAttemptAt = :now', names: { '#lastAttemptAt': 'lastAttemptAt' } };

  /**
   * One conditional update; on a failed condition returns what DynamoDB says the item now is.
   * `missingMeans` is what a failure without an item tells us: for the count-or-create write the item
   * must exist (only an emulator omits it); for the others it may have been deleted meanwhile.
   */
  const attempt = async (
    input: Pick<ConstructorParameters<typeof UpdateCommand>[0], 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
    missingMeans: 'unknown' | 'exists',
  ): Promise<{ ok: true; attributes: Record<string, unknown> | undefined } | { ok: false; knowledge: Knowledge }> => {
    try {
      const output = await db.send(
        new UpdateCommand({ TableName: tableName, Key, ...input, ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
      );
      return { ok: true, attributes: output.Attributes };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const state = parseLockoutState(error.Item);
      if (state) return { ok: false, knowledge: { kind: 'state', state } };
      return { ok: false, knowledge: { kind: missingMeans } };
    }
  };

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const now = deps.now();
    const transition = nextTransition(knowledge, settings, now);
    switch (transition) {
      case 'count': {
        // The common cases in one write, valid without knowing the state: no item yet (created here with
        // a window starting now), or an open window under the limit with no lock in force (and, with the
        // quick-login check on, an attempt that is not quick).
        const stamped = stamp();
        const notQuick = quickMs === undefined ? '' : ' AND (attribute_not_exists(#lastAttemptAt) OR #lastAttemptAt <= :quickFloor)';
        const result = await attempt(
          {
            UpdateExpression:
              'ADD #attempts :one, #total :one, #attemptIds :idSet SET #windowStart = if_not_exists(#windowStart, :now), #lockedUntil = if_not_exists(#lockedUntil, :zero), ' +
              `#lockCount = if_not_exists(#lockCount, :zero), #refused = if_not_exists(#refused, :zero), #expiresAt = if_not_exists(#expiresAt, :expiresAt)${stamped.set} REMOVE ${REMOVE_OWNER}`,
            // A missing set contains nothing, so a new item (or one written before ids existed) passes the id test.
            ConditionExpression:
              `(attribute_not_exists(pk) OR (#attempts < :max AND #windowStart > :windowFloor AND #lockedUntil <= :now${notQuick})) ` +
              'AND NOT contains(#attemptIds, :id) AND NOT contains(#previousIds, :id)',
            ExpressionAttributeNames: {
              '#attempts': 'attempts', '#total': 'total', '#windowStart': 'windowStart', '#lockedUntil': 'lockedUntil', '#lockCount': 'lockCount',
              '#refused': 'refused', '#expiresAt': 'expiresAt', '#attemptIds': 'attemptIds', '#previousIds': 'previousIds', ...stamped.names, ...OWNER_NAMES,
            },
            ExpressionAttributeValues: {
              ':one': 1, ':zero': 0, ':max': settings.maxAttempts, ':windowFloor': now - windowMs, ':now': now, ':expiresAt': expiryFor(now, 0, settings),
              ':idSet': idSet, ':id': attemptId, ...(quickMs === undefined ? {} : { ':quickFloor': now - quickMs }),
            },
          },
          'exists',
        );
        if (result.ok) return { allowed: true, attempts: parseLockoutState(result.attributes)?.attempts ?? 1 };
        knowledge = result.knowledge;
        break;
      }
      case 'count-double': {
        // A quick attempt under the double-count option: it uses two of the window's allowance, as a
        // compare-and-set on the state it was judged by.
        const state = (knowledge as { state: LockoutState }).state;
        const result = await attempt(
          {
            UpdateExpression: `ADD #attempts :two, #total :one, #attemptIds :idSet SET #lastAttemptAt = :now REMOVE ${REMOVE_OWNER}`,
            ConditionExpression:
              '#windowStart = :seenWindowStart AND #lockedUntil = :seenLockedUntil AND #attempts = :seenAttempts AND NOT contains(#attemptIds, :id) AND NOT contains(#previousIds, :id)',
            ExpressionAttributeNames: {
              '#attempts': 'attempts', '#total': 'total', '#attemptIds': 'attemptIds', '#previousIds': 'previousIds', '#lastAttemptAt': 'lastAttemptAt',
              '#windowStart': 'windowStart', '#lockedUntil': 'lockedUntil', ...OWNER_NAMES,
            },
            ExpressionAttributeValues: {
              ':two': 2, ':one': 1, ':idSet': idSet, ':id': attemptId, ':now': now,
              ':seenWindowStart': state.windowStart, ':seenLockedUntil': state.lockedUntil, ':seenAttempts': state.attempts,
            },
          },
          'unknown',
        );
        if (result.ok) return { allowed: true, attempts: parseLockoutState(result.attributes)?.attempts ?? state.attempts + 2 };
        knowledge = result.knowledge;
        break;
      }
      case 'restart': {
        // The window expired with no lock in force: a fresh window, carrying the escalation level unless it decayed.
        const state = (knowledge as { state: LockoutState }).state;
        const level = effectiveLevel(state, settings, now);
        const closed = closeWindow(state);
        const stamped = stamp();
        const result = await attempt(
          {
            UpdateExpression:
              `SET #attempts = :one, #windowStart = :now, #lockCount = :level, #expiresAt = :expiresAt, #attemptIds = :idSet${stamped.set}${closed.set ? `, ${closed.set}` : ''} ADD #total :one` +
              ` REMOVE ${REMOVE_OWNER}${closed.remove ? `, ${closed.remove}` : ''}`,
            // attempts is compared too: an instance whose clock runs slightly behind may still count in the old window.
            ConditionExpression: '#windowStart = :seenWindowStart AND #lockedUntil = :seenLockedUntil AND #lockCount = :seenLockCount AND #attempts = :seenAttempts',
            ExpressionAttributeNames: {
              '#attempts': 'attempts', '#windowStart': 'windowStart', '#lockedUntil': 'lockedUntil', '#lockCount': 'lockCount', '#expiresAt': 'expiresAt', '#total': 'total',
              '#attemptIds': 'attemptIds', '#previousIds': 'previousIds', ...stamped.names, ...OWNER_NAMES,
            },
            ExpressionAttributeValues: {
              ':one': 1, ':now': now, ':level': level, ':expiresAt': expiryFor(now, state.lockedUntil, settings), ':idSet': idSet,
              ':seenWindowStart': state.windowStart, ':seenLockedUntil': state.lockedUntil, ':seenLockCount': state.lockCount, ':seenAttempts': state.attempts,
              ...closed.values,
            },
          },
          'unknown',
        );
        if (result.ok) return { allowed: true, attempts: 1 };
        knowledge = result.knowledge;
        break;
      }
      case 'lock': {
        // The limit was reached inside the window: this attempt is refused and engages the lock. Its
        // window restarts when the lock ends, so a login gets a full allowance after each lock.
        const state = (knowledge as { state: LockoutState }).state;
        const level = effectiveLevel(state, settings, now);
        const lockedUntil = now + lockDurationMs(settings, level);
        const closed = closeWindow(state);
        const result = await attempt(
          {
            // The window after the lock starts with no ids; the one it closes is kept as previousIds. The
            // lock's time and, for an existing account, its owner are what the owner's notice tells.
            UpdateExpression:
              'SET #attempts = :zero, #windowStart = :lockedUntil, #lockedUntil = :lockedUntil, #lockCount = :level, #expiresAt = :expiresAt, #lockedBy = :id, #lockedAt = :now' +
              `${owner ? ', #lockOwner = :owner, #lockPool = :pool' : ''}${closed.set ? `, ${closed.set}` : ''} ADD #total :one, #refused :one ` +
              `REMOVE #attemptIds${owner ? '' : `, ${REMOVE_OWNER}`}${closed.remove ? `, ${closed.remove}` : ''}`,
            ConditionExpression: '#windowStart = :seenWindowStart AND #lockedUntil = :seenLockedUntil AND #attempts = :seenAttempts',
            ExpressionAttributeNames: {
              '#attempts': 'attempts', '#windowStart': 'windowStart', '#lockedUntil': 'lockedUntil', '#lockCount': 'lockCount',
              '#expiresAt': 'expiresAt', '#total': 'total', '#refused': 'refused', '#lockedBy': LOCK_NOTICE_ATTRIBUTES.lockedBy, '#attemptIds': 'attemptIds', '#previousIds': 'previousIds',
              '#lockedAt': LOCK_NOTICE_ATTRIBUTES.lockedAt, ...OWNER_NAMES,
            },
            ExpressionAttributeValues: {
              ':zero': 0, ':one': 1, ':lockedUntil': lockedUntil, ':level': level + 1, ':expiresAt': expiryFor(lockedUntil, lockedUntil, settings), ':id': attemptId,
              ':seenWindowStart': state.windowStart, ':seenLockedUntil': state.lockedUntil, ':seenAttempts': state.attempts, ':now': now,
              ...(owner ? { ':owner': owner.userName, ':pool': owner.userPoolId } : {}),
              ...closed.values,
            },
          },
          'unknown',
        );
        if (result.ok) return { allowed: false, reason: 'lock-engaged', retryAt: lockedUntil, lockCount: level + 1 };
        knowledge = result.knowledge;
        break;
      }
      case 'refuse': {
        // Counted, but the lock itself is left exactly as it is. Only the latest refused id is kept, so a
        // flood cannot grow the item; a retry overtaken by another refusal is counted again (statistics only).
        const state = (knowledge as { state: LockoutState }).state;
        const result = await attempt(
          {
            UpdateExpression: `SET #lastRefusedId = :id ADD #total :one, #refused :one REMOVE ${REMOVE_OWNER}`,
            ConditionExpression: '#lockedUntil > :now AND (attribute_not_exists(#lastRefusedId) OR #lastRefusedId <> :id)',
            ExpressionAttributeNames: { '#total': 'total', '#refused': 'refused', '#lockedUntil': 'lockedUntil', '#lastRefusedId': 'lastRefusedId', ...OWNER_NAMES },
            ExpressionAttributeValues: { ':one': 1, ':now': now, ':id': attemptId },
          },
          'unknown',
        );
        if (result.ok) {
          const after = parseLockoutState(result.attributes) ?? state;
          return { allowed: false, reason: 'locked', retryAt: after.lockedUntil, lockCount: after.lockCount };
        }
        knowledge = result.knowledge;
        break;
      }
      case 'read': {
        // Only reached against emulators that do not return ALL_OLD: the read merely feeds the next
        // compare-and-set, which still decides atomically.
        const output = await db.send(new GetCommand({ TableName: tableName, Key, ConsistentRead: true }));
        const state = parseLockoutState(output.Item);
        knowledge = state ? { kind: 'state', state } : { kind: 'unknown' };
        break;
      }
    }
    if (knowledge.kind === 'state') {
      lastSeen = knowledge.state;
      const recorded = alreadyRecorded(knowledge.state, attemptId);
      if (recorded) return recorded;
    }
  }

  const now = deps.now();
  const retryAt = lastSeen && lastSeen.lockedUntil > now ? lastSeen.lockedUntil : now + settings.lockSeconds * 1000;
  return { allowed: false, reason: 'contention', retryAt, lockCount: lastSeen?.lockCount ?? 0 };
}
