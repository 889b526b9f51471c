/**
 * Send welcome email: sends the one welcome email of a newly confirmed user, off Cognito's synchronous path.
 *
 * The table is the outbox. post-confirmation saves the profile with `welcomeEmail: "PENDING"`; the
 * table's stream (NEW_IMAGE) carries that INSERT, and a Lambda event source mapping (infra/stream-trigger.ts)
 * delivers exactly those records here, in batches, filtered to INSERTs of PENDING profiles. The new
 * image holds all the email needs (pool, sub, address, name), so nothing is read back.
 *
 * - A record whose send fails is returned in `batchItemFailures`. Lambda then retries the batch from
 *   the earliest failed record (bisecting when the invocation itself fails), a bounded number of times
 *   and for a bounded age, and sends the coordinates of what it gave up on to the failure queue. The
 *   profile stays PENDING: the durable record of an unsent welcome.
 * - Lambda delivers a record at least once, and a retry re-delivers every record after the failed one,
 *   so the send goes through Powertools Idempotency keyed on (userPoolId, sub), stored in the shared table
 *   (`pk` = `idempotency#<function>`, `sk` = hash of the key): however often a record arrives, one email.
 *   The idempotency record is released when the send fails, so a later attempt can send, and only one can.
 * - The profile becomes `welcomeEmail: "SENT"` only after SES accepted the message.
 * - A record that can never succeed (not a new PENDING profile, malformed, no usable address) is logged
 *   and dropped, not failed: failing it would only hold up the records behind it until the retries ran out.
 *
 * A plain loop (functions/common/stream-batch.ts, shared with notify-lockout), not `@aws-lambda-powertools/batch`. The utility is cheap (measured: +5 KiB of bundle,
 * no cold-start cost above the noise), but what it would take off this file is a dozen lines of
 * bookkeeping, while its defaults are wrong here: it processes records in parallel (no send may start
 * late in the invocation, see SEND_RESERVE_MS), and throws when every record failed, which makes Lambda
 * bisect the batch, doubling the invocations of an SES outage for nothing, since the partial response
 * already says where to resume.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { BrandingSettings, SenderIdentity } from '../common/config.ts';
import { sendEmail } from '../common/email.ts';
import { errorName } from '../common/errors.ts';
import { parseEmailAddress } from '../common/identity.ts';
import { emailDomain, logger as defaultLogger } from '../common/logger.ts';
import { handleStreamBatch, type BatchOutcome } from '../common/stream-batch.ts';
import { ITEM_PREFIX, PROFILE_SK, profileKey, WELCOME_STATUS } from '../common/table.ts';
import { renderEmail } from '../common/templates.ts';

/** How long a sent welcome is remembered; far beyond any stream retry (records live 24 h), and a user is confirmed only once. */
export const WELCOME_MEMORY_SECONDS = 7 * 24 * 3600;

export { SEND_RESERVE_MS } from '../common/stream-batch.ts';

/** One welcome to send, from the new image of a profile INSERT. */
export interface WelcomeRequest {
  readonly userPoolId: string;
  readonly sub: string;
  readonly email: string;
  readonly name?: string;
}

/** Why a record was dropped without a send: none of these can succeed on a retry. */
export type DroppedRecord = 'not-a-pending-profile' | 'malformed' | 'no-email';

/** What happened to one record. `failed` records are reported back to Lambda for a retry. */
export type RecordOutcome = BatchOutcome<DroppedRecord, 'sent' | 'already-sent'>;

/** Thrown while the email is not sent yet; the record is then reported as a batch item failure. */
export class WelcomeNotSentError extends Error {
  override readonly name = 'WelcomeNotSentError';
}

export interface SendWelcomeEmailDeps {
  readonly db: Pick<DynamoDBDocumentClient, 'send'>;
  readonly ses: Pick<SESv2Client, 'send'>;
  readonly tableName: string;
  readonly branding: BrandingSettings;
  readonly from: SenderIdentity;
  readonly now: () => number;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

/** Builds the idempotent welcome sender once (at module scope in the handler). */
export function welcomeSender(deps: SendWelcomeEmailDeps, persistenceStore: BasePersistenceLayer) {
  const config = new IdempotencyConfig({ expiresAfterSeconds: WELCOME_MEMORY_SECONDS });
  // The key object holds identifiers only; Powertools stores its hash, and the result below holds no personal data.
  const once = makeIdempotent(
    async (_key: { purpose: 'welcome'; userPoolId: string; sub: string }, user: WelcomeRequest & { called: boolean }) => {
      user.called = true;
      const email = renderEmail('Welcome', { branding: deps.branding, recipient: { email: user.email, ...(user.name ? { name: user.name } : {}) } });
      await sendEmail(deps.ses, deps.from, user.email, email);
      return { sent: true };
    },
    { persistenceStore, config, dataIndexArgument: 0 },
  );
  return { once, config };
}

export type WelcomeSender = ReturnType<typeof welcomeSender>;

const wellFormed = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= 256;

/**
 * The welcome a stream record asks for, or why it asks for none. The event source mapping's filter
 * already passes only INSERTs of PENDING profiles; this checks again, since a filter is configuration.
 */
export function welcomeRequest(record: DynamoDBRecord): WelcomeRequest | DroppedRecord {
  const image = record?.dynamodb?.NewImage;
  if (record?.eventName !== 'INSERT' || !image || typeof image !== 'object') return 'not-a-pending-profile';
  let item: Record<string, unknown>;
  try {
    // The stream's attribute values are DynamoDB's wire format, which is what the SDK type describes.
    item = unmarshall(image as Record<string, AttributeValue>);
  } catch {
    return 'malformed';
  }
  if (item.sk !== PROFILE_SK || typeof item.pk !== 'string' || !item.pk.startsWith(ITEM_PREFIX.user) || item.welcomeEmail !== WELCOME_STATUS.pending) return 'not-a-pending-profile';
  if (!wellFormed(item.sub) || item.pk !== profileKey(item.sub).pk || !wellFormed(item.userPoolId)) return 'malformed';
  const parsed = parseEmailAddress(item.email);
  if (!parsed.ok) return 'no-email';
  const name = [item.name, item.givenName].find(wellFormed);
  return { userPoolId: item.userPoolId, sub: item.sub, email: parsed.value.address, ...(name ? { name } : {}) };
}

async function markWelcomeSent(sub: string, deps: SendWelcomeEmailDeps): Promise<void> {
  const log = deps.logger ?? defaultLogger;
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: profileKey(sub),
        UpdateExpression: 'SET welcomeEmail = :sent, welcomeEmailSentAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':sent': WELCOME_STATUS.sent, ':at': new Date(deps.now()).toISOString() },
      }),
    );
  } catch (error) {
    // The email went out; a stale PENDING flag only risks one extra welcome from a manual re-send, never a lost one.
    log.warn('Welcome email sent but not marked on the profile', { errorName: errorName(error) });
  }
}

/**
 * Sends one welcome through the idempotent sender and marks the profile SENT. Throws
 * {@link WelcomeNotSentError} while the email cannot be sent.
 */
export async function sendWelcome(request: WelcomeRequest, deps: SendWelcomeEmailDeps, sender: WelcomeSender): Promise<'sent' | 'already-sent'> {
  const log = deps.logger ?? defaultLogger;
  const attempt = { ...request, called: false };
  try {
    await sender.once({ purpose: 'welcome', userPoolId: request.userPoolId, sub: request.sub }, attempt);
  } catch (error) {
    // A concurrent attempt may still fail, so "in progress" is retried too; the next try then sees its outcome.
    // WARN, not ERROR: SES throttling that clears within the retries needs nobody. What does need someone,
    // the mapping giving up, fires the failure queue's alarm instead of every attempt firing the error-log one.
    log.warn('Welcome email not sent; the record goes back to Lambda for a retry', {
      welcomeEmail: 'retrying',
      errorName: errorName(error),
      emailDomain: emailDomain(request.email),
    });
    throw new WelcomeNotSentError('Welcome email not sent yet', { cause: error });
  }
  // Also when an earlier attempt sent but could not mark the profile.
  await markWelcomeSent(request.sub, deps);
  const welcome = attempt.called ? 'sent' : 'already-sent';
  log.info('Welcome email handled', { welcomeEmail: welcome, emailDomain: emailDomain(request.email) });
  return welcome;
}

/**
 * Handles one batch from the table's stream, in order (functions/common/stream-batch.ts). Returns the
 * sequence numbers of the records to retry (Lambda's partial batch response). Records are not started once
 * less than {@link SEND_RESERVE_MS} of the invocation is left; they are reported as failures, so Lambda
 * delivers them again.
 */
export async function handleWelcomeRecords(
  event: DynamoDBStreamEvent,
  deps: SendWelcomeEmailDeps,
  sender: WelcomeSender,
  context?: Context,
): Promise<DynamoDBBatchResponse & { outcomes: RecordOutcome[] }> {
  // Lets Powertools expire an in-progress record when this invocation times out, so a retry can send.
  if (context) sender.config.registerLambdaContext(context);
  return handleStreamBatch<WelcomeRequest, DroppedRecord, 'sent' | 'already-sent'>(
    event,
    {
      outcomeField: 'welcomeEmail',
      what: 'welcome email',
      parse: welcomeRequest,
      errors: new Set<DroppedRecord>(['malformed']),
      correlation: (request) => request.sub,
      handle: (request) => sendWelcome(request, deps, sender),
      noSequenceNumber: () => new WelcomeNotSentError('A stream record has no sequence number'),
      ...(deps.logger ? { logger: deps.logger } : {}),
    },
    context,
  );
}
