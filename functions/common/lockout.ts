/**
 * The sign-in attempt state shared by pre-authentication (which counts), post-authentication (which
 * clears after a success) and the admin unlock command (which clears on request).
 *
 * One item per login: pk `LOCKOUT#<normalised login>`, sk `STATE`. It is independent of the user's
 * profile row, so users arriving through migration (no profile yet) and users who do not exist at all
 * are throttled by exactly the same item and code path.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { lockoutItemKey } from './table.ts';

/** The narrow DynamoDB dependency every lockout operation takes. */
export type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

/**
 * Cognito limits usernames to 128 characters, but a `userNotFound` event carries whatever was typed.
 * Longer logins are keyed by their hash so that no input can exceed DynamoDB's 2 KB key limit.
 */
const MAX_PLAIN_LOGIN_LENGTH = 256;
/** Keys of hashed logins start with this; a plain login that starts with it is hashed too, so the two forms never meet. */
const HASHED = 'sha256:';
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The one normalisation of a login, wherever a lockout key is derived (pre-authentication,
 * post-authentication, `make unlock`): ASCII whitespace trimmed, ASCII letters lower-cased, and nothing
 * else touched.
 *
 * Unicode case folding and compatibility normalisation are deliberately not applied: they map distinct
 * characters onto ASCII (the Kelvin sign U+212A lower-cases to `k`; NFKC turns full-width letters into
 * ASCII), so `Kate@gmail.com` written with U+212A would share `kate@gmail.com`'s counter, and its own
 * successful sign-ins would clear the real Kate's. A login with any non-ASCII character therefore keeps
 * its characters and is keyed by their hash (see {@link lockoutKey}), apart from every ASCII login. The
 * domain policy refuses non-ASCII addresses on every path, so no account the policy admitted has one.
 */
export function normaliseLogin(login: string): string {
  // A loop rather than a trim regex, which is quadratic on a long run of spaces.
  let start = 0;
  let end = login.length;
  while (start < end && isAsciiSpace(login.charCodeAt(start))) start++;
  while (end > start && isAsciiSpace(login.charCodeAt(end - 1))) end--;
  return login.slice(start, end).replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

/** Tab, line feed, vertical tab, form feed, carriage return and space. */
function isAsciiSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/**
 * The key of a login's attempt-state item. The login is normalised here, so callers may pass it raw.
 * Printable-ASCII logins of up to 256 characters are stored as they are; any other login (non-ASCII,
 * control characters, longer, or starting with `sha256:`) as `sha256:<hex>` of its normalised form.
 * Two logins share a key only when their normalised forms are equal (or SHA-256 collides).
 */
export function lockoutKey(login: string): { pk: string; sk: string } {
  return lockoutItemKey(loginKeyId(login));
}

/**
 * The part of a partition key that names a login, as {@link lockoutKey} derives it; passwordless
 * sign-in keys its throttle and challenges by the same id, so both see one login wherever it is typed.
 */
export function loginKeyId(login: string): string {
  const normalised = normaliseLogin(login);
  const plain = normalised.length <= MAX_PLAIN_LOGIN_LENGTH && PRINTABLE_ASCII.test(normalised) && !normalised.startsWith(HASHED);
  return plain ? normalised : `${HASHED}${createHash('sha256').update(normalised, 'utf8').digest('hex')}`;
}

/**
 * The login a sign-in is counted against: the email of a real user (so every alias a pool allows
 * shares one counter), or the typed username when Cognito reports `userNotFound`. A real user without
 * an email attribute falls back to the username.
 */
export function lockoutLogin(input: { userName: string; email?: string | undefined; userNotFound?: boolean | undefined }): string {
  if (input.userNotFound === true) return normaliseLogin(input.userName);
  const email = input.email === undefined ? '' : normaliseLogin(input.email);
  return email !== '' ? email : normaliseLogin(input.userName);
}

/**
 * The attempt state as stored. Times are epoch milliseconds except `expiresAt` (epoch seconds, the TTL).
 *
 * The id fields make every write idempotent per attempt: each sign-in attempt carries a unique id, and
 * a request that DynamoDB applied but whose answer was lost (so the SDK sent it again) is recognised by
 * finding its id here instead of being counted a second time. See docs/lockout.md.
 */
export interface LockoutState {
  /** Attempts let through in the current window. */
  readonly attempts: number;
  /** Start of the current counting window. */
  readonly windowStart: number;
  /** Sign-ins are refused until this time; 0 or a past time means not locked. */
  readonly lockedUntil: number;
  /** Locks engaged so far (after decay); the escalation level of the next lock. */
  readonly lockCount: number;
  /** Every attempt ever recorded on this item, let through or refused. */
  readonly total: number;
  /** Attempts refused because of a lock. */
  readonly refused: number;
  readonly expiresAt: number;
  /** Ids of the attempts let through in the current window (at most `maxAttempts`); absent when none. */
  readonly attemptIds?: ReadonlySet<string>;
  /**
   * Ids of the attempts let through in the window that the last lock or window restart closed. Kept so
   * that a retried write which lands just after another attempt closed the window is still recognised.
   */
  readonly previousIds?: ReadonlySet<string>;
  /** Id of the attempt that engaged the last lock. */
  readonly lockedBy?: string;
  /** Id of the latest attempt refused during a lock. */
  readonly lastRefusedId?: string;
  /** When the latest counted attempt arrived (epoch ms); written only with the quick-login check on. */
  readonly lastAttemptAt?: number;
}

function numberField(item: Record<string, unknown>, name: string): number | undefined {
  const value = item[name];
  if (typeof value === 'number') return value;
  // Items attached to a ConditionalCheckFailedException are not unmarshalled by the document client.
  if (value !== null && typeof value === 'object' && 'N' in value && typeof value.N === 'string') return Number(value.N);
  return undefined;
}

function stringField(item: Record<string, unknown>, name: string): string | undefined {
  const value = item[name];
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && 'S' in value && typeof value.S === 'string') return value.S;
  return undefined;
}

/** A string set: a `Set` from the document client, or `{SS: [...]}` in attribute-value form. */
function stringSetField(item: Record<string, unknown>, name: string): ReadonlySet<string> | undefined {
  const value = item[name];
  let members: unknown[] | undefined;
  if (value instanceof Set) members = [...(value as Set<unknown>)];
  else if (value !== null && typeof value === 'object' && 'SS' in value && Array.isArray(value.SS)) members = value.SS as unknown[];
  const strings = members?.filter((v): v is string => typeof v === 'string');
  // DynamoDB stores no empty set, so an empty one is reported as absent, as it would be stored.
  return strings && strings.length > 0 ? new Set(strings) : undefined;
}

/**
 * Reads an attempt-state item, plain (document client output) or in DynamoDB's attribute-value form
 * (the `Item` of a failed condition). `undefined` when there is no item or it is not a lockout item.
 */
export function parseLockoutState(item: unknown): LockoutState | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  const record = item as Record<string, unknown>;
  const attempts = numberField(record, 'attempts');
  const windowStart = numberField(record, 'windowStart');
  if (attempts === undefined || windowStart === undefined) return undefined;
  // Absent fields are left out rather than set to undefined, so a state compares equal to the item it was read from.
  const attemptIds = stringSetField(record, 'attemptIds');
  const previousIds = stringSetField(record, 'previousIds');
  const lockedBy = stringField(record, 'lockedBy');
  const lastRefusedId = stringField(record, 'lastRefusedId');
  const lastAttemptAt = numberField(record, 'lastAttemptAt');
  return {
    attempts,
    windowStart,
    lockedUntil: numberField(record, 'lockedUntil') ?? 0,
    lockCount: numberField(record, 'lockCount') ?? 0,
    total: numberField(record, 'total') ?? 0,
    refused: numberField(record, 'refused') ?? 0,
    expiresAt: numberField(record, 'expiresAt') ?? 0,
    ...(attemptIds === undefined ? {} : { attemptIds }),
    ...(previousIds === undefined ? {} : { previousIds }),
    ...(lockedBy === undefined ? {} : { lockedBy }),
    ...(lastRefusedId === undefined ? {} : { lastRefusedId }),
    ...(lastAttemptAt === undefined ? {} : { lastAttemptAt }),
  };
}

/**
 * Deletes a login's attempt state (counter, lock and escalation level) in one idempotent request and
 * returns what was there, or `undefined` when there was nothing to clear.
 */
export async function clearLockout(db: DocumentSender, tableName: string, login: string): Promise<LockoutState | undefined> {
  const output = await db.send(new DeleteCommand({ TableName: tableName, Key: lockoutKey(login), ReturnValues: 'ALL_OLD' }));
  return parseLockoutState(output.Attributes);
}
