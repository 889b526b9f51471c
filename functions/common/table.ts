/**
 * The shape of the project's one DynamoDB table: its key and TTL attributes, the partition-key prefix
 * of each kind of item and the keys built from them. The functions, the stack (infra/data-table.ts),
 * the IAM conditions (`dynamodb:LeadingKeys`), the stream filter, the sandbox and the operator scripts
 * all import it, so a key format changes in one place. No SDK imports: infra reads it at synth time.
 *
 * | item              | pk                                | sk                         |
 * |-------------------|-----------------------------------|----------------------------|
 * | profile           | `USER#<sub>`                      | `PROFILE`                  |
 * | sign-in audit     | `USER#<sub>`                      | `LOGIN#<iso time>#<hash>`  |
 * | attempt state     | `LOCKOUT#<login key>`             | `STATE`                    |
 * | dedupe marker     | `DEDUPE#<purpose>#<hash>`         | `MARKER`                   |
 * | passwordless throttle | `PASSWORDLESS#<login key>`    | `THROTTLE`                 |
 * | passwordless challenge | `PASSWORDLESS#<login key>`   | `CHALLENGE#<id>`           |
 * | passwordless sign-in marker | `PASSWORDLESS#<login key>` | `SIGN-IN`               |
 * | idempotency (Powertools) | `idempotency#<function>`   | hash of the key            |
 */

/** Partition key attribute (string). */
export const PARTITION_KEY = 'pk';
/** Sort key attribute (string). */
export const SORT_KEY = 'sk';
/** TTL attribute (epoch seconds); DynamoDB deletes an item some time after it passes. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Partition-key prefixes of the table's item kinds. */
export const ITEM_PREFIX = {
  user: 'USER#',
  lockout: 'LOCKOUT#',
  dedupe: 'DEDUPE#',
  /** Passwordless sign-in's throttle, challenges and sign-in marker, one partition per login. */
  passwordless: 'PASSWORDLESS#',
  /** Powertools idempotency records: `idempotency#<function name>`. */
  idempotency: 'idempotency#',
} as const;

/** Sort key of a user's profile row. */
export const PROFILE_SK = 'PROFILE';
/** Sort key of the sign-in attempt state item. */
export const LOCKOUT_SK = 'STATE';
/** Sort key of a dedupe marker. */
export const MARKER_SK = 'MARKER';
/** Sort keys of the items under a login's `PASSWORDLESS#<login key>` partition. */
export const PASSWORDLESS_SK = {
  /** How many messages went out lately; see functions/create-auth-challenge/throttle.ts. */
  throttle: 'THROTTLE',
  /** One issued link or code: its hash, expiry and, once used, when. */
  challenge: (challengeId: string) => `CHALLENGE#${challengeId}`,
  /** The last passwordless sign-in, which post-authentication reads to audit the method. */
  signIn: 'SIGN-IN',
} as const;

/**
 * A profile's `welcomeEmail`: saved `PENDING` by post-confirmation, which the table's stream delivers to
 * send-welcome-email, which marks it `SENT`.
 */
export const WELCOME_STATUS = { pending: 'PENDING', sent: 'SENT' } as const;

/**
 * Attributes of an attempt-state item that tell a lock's owner about it. The write that engages a lock
 * sets `lockedBy` (the id of the attempt that engaged it, so (pk, lockedBy) names one lock) and
 * `lockedAt`; when the login belongs to an existing user it also sets `owner` (the Cognito username,
 * never the address) and `pool`, which every other write removes. pre-authentication writes them,
 * notify-lockout reads them, and its event source mapping's filter passes only images holding `owner`.
 */
export const LOCK_NOTICE_ATTRIBUTES = { lockedBy: 'lockedBy', lockedAt: 'lockedAt', owner: 'lockOwner', pool: 'lockPool' } as const;

/** A table item's primary key. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** The partition of everything about one user: `USER#<sub>`. */
export function userPartition(sub: string): string {
  return `${ITEM_PREFIX.user}${sub}`;
}

/** The profile row of a user. */
export function profileKey(sub: string): ItemKey {
  return { pk: userPartition(sub), sk: PROFILE_SK };
}

/** The user's sub from a `USER#<sub>` partition key. */
export function subOfUserPartition(pk: string): string {
  return pk.startsWith(ITEM_PREFIX.user) ? pk.slice(ITEM_PREFIX.user.length) : pk;
}

/** One entry of a user's sign-in audit. */
export function auditKey(sub: string, atIso: string, hash: string): ItemKey {
  return { pk: userPartition(sub), sk: `LOGIN#${atIso}#${hash}` };
}

/** The attempt state of one login, keyed by its derived login key (functions/common/lockout.ts). */
export function lockoutItemKey(loginKey: string): ItemKey {
  return { pk: `${ITEM_PREFIX.lockout}${loginKey}`, sk: LOCKOUT_SK };
}

/** The partition of one login's passwordless items, keyed like its attempt state. */
export function passwordlessPartition(loginKey: string): string {
  return `${ITEM_PREFIX.passwordless}${loginKey}`;
}

/** The login key of a `LOCKOUT#<login key>` partition key. */
export function loginKeyOfLockoutPartition(pk: string): string {
  return pk.startsWith(ITEM_PREFIX.lockout) ? pk.slice(ITEM_PREFIX.lockout.length) : pk;
}

/** A dedupe marker for one purpose and hash. */
export function dedupeKey(purpose: string, hash: string): ItemKey {
  return { pk: `${ITEM_PREFIX.dedupe}${purpose}#${hash}`, sk: MARKER_SK };
}
