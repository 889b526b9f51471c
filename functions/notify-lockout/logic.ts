/**
 * Notify lockout: tells the owner of an existing account, once per lock, that sign-in to it was paused.
 *
 * The lock is engaged by exactly one conditional write (functions/pre-authentication/attempts.ts). Only
 * that write stamps `lockedBy` with the id of the attempt that engaged it and, when the login belongs to
 * an existing user, names the owner (`lockOwner`, the Cognito username, and `lockPool`); every other
 * write removes the owner. The table's stream (NEW_IMAGE) carries the write, and an event source mapping
 * (infra/lock-notice-stream.ts) passes only images holding an owner, so this function sees each lock of
 * an existing account and nothing else: no counted attempt, no refusal, no unknown login.
 *
 * - A lock is named by (pk, lockedBy): every delivery of its record carries the same pair, and the next
 *   lock gets a new one. The send goes through Powertools Idempotency keyed on that pair, so however
 *   often Lambda delivers the record (at least once, and again after a failed neighbour), one email.
 * - The address is not in the table: it is read from the pool (AdminGetUser) at send time, and only a
 *   verified address inside the domain policy is written to. An owner deleted since, or without such an
 *   address, gets nothing; that outcome is remembered like a send, so a retry does not ask again.
 * - A record whose send fails goes back in `batchItemFailures`; Lambda retries from it, bounded, then
 *   describes the batch in the failure queue. Records that can never succeed are logged and dropped.
 *
 * Nothing here runs on Cognito's synchronous path, so the attacker's answer to the attempt that locked
 * the login is the same whether or not the login belongs to anyone (functions/pre-authentication/logic.ts).
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { BrandingSettings, SenderIdentity } from '../common/config.ts';
import { sendEmail } from '../common/email.ts';
import { errorName } from '../common/errors.ts';
import type { DomainPolicy } from '../common/identity.ts';
import { logger as defaultLogger } from '../common/logger.ts';
import { checkRecipient } from '../common/recipient-policy.ts';
import { handleStreamBatch, type BatchOutcome } from '../common/stream-batch.ts';
import { ITEM_PREFIX, LOCK_NOTICE_ATTRIBUTES, LOCKOUT_SK } from '../common/table.ts';
import { renderEmail } from '../common/templates.ts';
import { lookUpUser, parseTaskInput } from '../common/workflow-task.ts';

/** How long a lock's notice is remembered: well past the stream's 24 hours, the longest any record of it can be re-delivered. */
export const LOCK_NOTICE_MEMORY_SECONDS = 2 * 24 * 3600;

export { SEND_RESERVE_MS } from '../common/stream-batch.ts';

/** One lock to tell its owner about. Times are epoch milliseconds. */
export interface LockNotice {
  /** Partition key of the attempt-state item (`LOCKOUT#<login key>`). */
  readonly pk: string;
  /** Id of the attempt that engaged the lock: unique per lock. */
  readonly lockedBy: string;
  readonly userPoolId: string;
  /** The owner's Cognito username. */
  readonly userName: string;
  /** When the lock was engaged. */
  readonly lockedAt: number;
  /** When sign-in is allowed again. */
  readonly lockedUntil: number;
}

/** Why a record was dropped without a notice: none of these can succeed on a retry. */
export type DroppedRecord = 'not-an-owned-lock' | 'malformed';

/** What the owner was sent: the notice, or why nobody could be. Remembered per lock. */
export type NoticeResult = 'sent' | 'owner-gone' | 'no-verified-email' | 'outside-domain-policy';

/** What happened to one record. `failed` and `not-attempted` records are reported back to Lambda for a retry. */
export type RecordOutcome = BatchOutcome<DroppedRecord, NoticeResult | 'already-handled'>;

/** Thrown while the notice is not sent yet; the record is then reported as a batch item failure. */
export class NoticeNotSentError extends Error {
  override readonly name = 'NoticeNotSentError';
}

export interface NotifyLockoutDeps {
  readonly cognito: Pick<CognitoIdentityProviderClient, 'send'>;
  readonly ses: Pick<SESv2Client, 'send'>;
  readonly branding: BrandingSettings;
  readonly from: SenderIdentity;
  /** The app's password-reset page, which the notice links to; absent when the app has no URL. */
  readonly resetUrl?: string;
  readonly domainPolicy: DomainPolicy;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

/** The idempotency key of one lock: identifiers only (Powertools stores its hash), the same for every delivery of it. */
export function lockNoticeKey(notice: Pick<LockNotice, 'pk' | 'lockedBy'>): { purpose: 'lock-notice'; pk: string; lockedBy: string } {
  return { purpose: 'lock-notice', pk: notice.pk, lockedBy: notice.lockedBy };
}

/** Looks the owner up and, when they have an address to write to, sends the notice. */
async function tellOwner(notice: LockNotice, deps: NotifyLockoutDeps): Promise<{ result: NoticeResult; domain?: string }> {
  const user = await lookUpUser(deps.cognito, { userPoolId: notice.userPoolId, username: notice.userName });
  if (!('attributes' in user)) return { result: 'owner-gone' };
  if (user.attributes.email_verified !== 'true') return { result: 'no-verified-email' };
  const check = checkRecipient('AccountLocked', user.attributes.email, deps.domainPolicy);
  if (!check.allowed) return { result: 'outside-domain-policy' };
  const address = check.address.address;
  const name = [user.attributes.name, user.attributes.given_name].find((v) => typeof v === 'string' && v !== '');
  const email = renderEmail('AccountLocked', {
    branding: deps.branding,
    recipient: { email: address, ...(name ? { name } : {}) },
    lock: { at: notice.lockedAt, until: notice.lockedUntil },
    ...(deps.resetUrl ? { link: deps.resetUrl } : {}),
  });
  await sendEmail(deps.ses, deps.from, address, email);
  return { result: 'sent', domain: check.address.domain };
}

/** Builds the idempotent notice sender once (at module scope in the handler). */
export function noticeSender(deps: NotifyLockoutDeps, persistenceStore: BasePersistenceLayer) {
  const config = new IdempotencyConfig({ expiresAfterSeconds: LOCK_NOTICE_MEMORY_SECONDS });
  // The stored result is the outcome alone: no address, name or username.
  const once = makeIdempotent(
    async (_key: ReturnType<typeof lockNoticeKey>, attempt: { notice: LockNotice; called: boolean; domain?: string }) => {
      attempt.called = true;
      const { result, domain } = await tellOwner(attempt.notice, deps);
      if (domain) attempt.domain = domain;
      return { result };
    },
    { persistenceStore, config, dataIndexArgument: 0 },
  );
  return { once, config };
}

export type NoticeSender = ReturnType<typeof noticeSender>;

/**
 * The notice a stream record asks for, or why it asks for none. The mapping's filter already passes only
 * images with an owner; this checks again, since a filter is configuration.
 */
export function lockNoticeRequest(record: DynamoDBRecord): LockNotice | DroppedRecord {
  const image = record?.dynamodb?.NewImage;
  if ((record?.eventName !== 'MODIFY' && record?.eventName !== 'INSERT') || !image || typeof image !== 'object') return 'not-an-owned-lock';
  let item: Record<string, unknown>;
  try {
    // The stream's attribute values are DynamoDB's wire format, which is what the SDK type describes.
    item = unmarshall(image as Record<string, AttributeValue>);
  } catch {
    return 'malformed';
  }
  const A = LOCK_NOTICE_ATTRIBUTES;
  if (item.sk !== LOCKOUT_SK || typeof item.pk !== 'string' || !item.pk.startsWith(ITEM_PREFIX.lockout) || item[A.owner] === undefined) return 'not-an-owned-lock';
  const { pk, [A.lockedBy]: lockedBy, [A.lockedAt]: lockedAt, lockedUntil } = item;
  if (typeof lockedBy !== 'string' || lockedBy === '' || lockedBy.length > 64) return 'malformed';
  if (typeof lockedAt !== 'number' || typeof lockedUntil !== 'number' || !Number.isFinite(lockedUntil) || !(lockedUntil > lockedAt)) return 'malformed';
  try {
    const owner = parseTaskInput({ userPoolId: item[A.pool], username: item[A.owner] });
    return { pk, lockedBy, userPoolId: owner.userPoolId, userName: owner.username, lockedAt, lockedUntil };
  } catch {
    return 'malformed';
  }
}

/** Sends one lock's notice through the idempotent sender. Throws {@link NoticeNotSentError} while it cannot be sent. */
export async function notifyOwner(notice: LockNotice, deps: NotifyLockoutDeps, sender: NoticeSender): Promise<NoticeResult | 'already-handled'> {
  const log = deps.logger ?? defaultLogger;
  const attempt: { notice: LockNotice; called: boolean; domain?: string } = { notice, called: false };
  let result: NoticeResult;
  try {
    ({ result } = (await sender.once(lockNoticeKey(notice), attempt)) as { result: NoticeResult });
  } catch (error) {
    // WARN, not ERROR: a throttle that clears within the retries needs nobody; the mapping giving up
    // fires the failure queue's alarm instead.
    log.warn('Lock notice not sent; the record goes back to Lambda for a retry', { lockNotice: 'retrying', errorName: errorName(error) });
    throw new NoticeNotSentError('Lock notice not sent yet', { cause: error });
  }
  const outcome = attempt.called ? result : 'already-handled';
  log.info('Lock notice handled', { lockNotice: outcome, ...(attempt.domain ? { emailDomain: attempt.domain } : {}), lockedAt: new Date(notice.lockedAt).toISOString() });
  return outcome;
}

/**
 * Handles one batch from the table's stream, in order (functions/common/stream-batch.ts), and returns the
 * sequence numbers to retry (Lambda's partial batch response). No record is started with less than
 * {@link SEND_RESERVE_MS} of the invocation left; those are reported as failures, so Lambda delivers them again.
 */
export async function handleLockRecords(
  event: DynamoDBStreamEvent,
  deps: NotifyLockoutDeps,
  sender: NoticeSender,
  context?: Context,
): Promise<DynamoDBBatchResponse & { outcomes: RecordOutcome[] }> {
  // Lets Powertools expire an in-progress record when this invocation times out, so a retry can send.
  if (context) sender.config.registerLambdaContext(context);
  return handleStreamBatch<LockNotice, DroppedRecord, NoticeResult | 'already-handled'>(
    event,
    {
      outcomeField: 'lockNotice',
      what: 'lock notice',
      parse: lockNoticeRequest,
      errors: new Set<DroppedRecord>(['malformed']),
      // The same correlation id as pre-authentication's lines about this user: the fingerprint of the username.
      correlation: (notice) => notice.userName,
      handle: (notice) => notifyOwner(notice, deps, sender),
      noSequenceNumber: () => new NoticeNotSentError('A stream record has no sequence number'),
      ...(deps.logger ? { logger: deps.logger } : {}),
    },
    context,
  );
}
