/**
 * Send welcome email: sends the one welcome email of a newly confirmed user, off Cognito's synchronous path.
 *
 * post-confirmation saves the profile (`welcomeEmail: "PENDING"`) and invokes this function asynchronously
 * (`InvocationType: Event`) with `{"kind": "welcome-email", userPoolId, sub}`: identifiers only, the address
 * and name are read back from the profile, so no personal data sits in Lambda's event queue.
 *
 * - Lambda retries an asynchronous invocation that throws (2 retries, events kept up to 6 hours, set on the
 *   function by the stack), so a failed send throws {@link WelcomeNotSentError} and an SES outage of a few
 *   hours still ends with the email sent.
 * - Lambda may deliver an event more than once, and retries repeat it, so the send goes through Powertools
 *   Idempotency keyed on (userPoolId, sub), stored in the shared table (`pk` = `idempotency#<function>`,
 *   `sk` = hash of the key): however often it runs, one email. The record is released when the send
 *   fails, so a later attempt can send, and only one can.
 * - The profile becomes `welcomeEmail: "SENT"` only after SES accepted the message, so an unsent welcome
 *   stays durably recorded (PENDING) even if every retry fails.
 * - A message that can never succeed (malformed, no profile, no address) is logged and dropped: throwing
 *   would only spend retries.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import type { BrandingSettings, SenderIdentity } from '../common/config.ts';
import { sendEmail } from '../common/email.ts';
import { errorName } from '../common/errors.ts';
import { emailDomain, logger as defaultLogger } from '../common/logger.ts';
import { renderEmail } from '../common/templates.ts';

/** How long a sent welcome is remembered; far beyond any Lambda retry, and a user is confirmed only once. */
export const WELCOME_MEMORY_SECONDS = 7 * 24 * 3600;

/** The `kind` of the message post-confirmation sends this function. */
export const WELCOME_EMAIL_KIND = 'welcome-email';

/** What post-confirmation hands over: identifiers only, the address is read back from the profile. */
export interface WelcomeEmailMessage {
  readonly kind: typeof WELCOME_EMAIL_KIND;
  readonly userPoolId: string;
  readonly sub: string;
}

/** Outcome of one invocation that did not throw. */
export interface WelcomeEmailResult {
  readonly welcome: 'sent' | 'already-sent' | 'no-profile' | 'no-email' | 'malformed';
}

/** Thrown while the email is not sent yet, so Lambda retries the event. */
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

/** The profile row of a user (see the table layout in the README). */
export function profileKey(sub: string): { pk: string; sk: string } {
  return { pk: `USER#${sub}`, sk: 'PROFILE' };
}

interface Recipient {
  sub: string;
  email: string;
  name?: string;
}

/** Builds the idempotent welcome sender once (at module scope in the handler). */
export function welcomeSender(deps: SendWelcomeEmailDeps, persistenceStore: BasePersistenceLayer) {
  const config = new IdempotencyConfig({ expiresAfterSeconds: WELCOME_MEMORY_SECONDS });
  // The key object holds identifiers only; Powertools stores its hash, and the result below holds no personal data.
  const once = makeIdempotent(
    async (_key: { purpose: 'welcome'; userPoolId: string; sub: string }, user: Recipient & { called: boolean }) => {
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

async function markWelcomeSent(sub: string, deps: SendWelcomeEmailDeps): Promise<void> {
  const log = deps.logger ?? defaultLogger;
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: profileKey(sub),
        UpdateExpression: 'SET welcomeEmail = :sent, welcomeEmailSentAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':sent': 'SENT', ':at': new Date(deps.now()).toISOString() },
      }),
    );
  } catch (error) {
    // The email went out; a stale PENDING flag only risks one extra welcome from a later re-send, never a lost one.
    log.warn('Welcome email sent but not marked on the profile', { errorName: errorName(error) });
  }
}

const wellFormed = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= 256;

/** Whether an event is a well-formed welcome-email message. */
export function isWelcomeEmailMessage(event: unknown): event is WelcomeEmailMessage {
  if (typeof event !== 'object' || event === null) return false;
  const message = event as Record<string, unknown>;
  return message.kind === WELCOME_EMAIL_KIND && wellFormed(message.userPoolId) && wellFormed(message.sub);
}

/**
 * Handles one welcome-email message: reads the address back from the profile, sends through the idempotent
 * sender and marks the profile SENT. Throws {@link WelcomeNotSentError} while the email cannot be sent, so
 * Lambda retries the event; a message that can never succeed is logged and dropped.
 */
export async function sendWelcomeEmail(
  message: unknown,
  deps: SendWelcomeEmailDeps,
  sender: WelcomeSender,
  context?: Context,
): Promise<WelcomeEmailResult> {
  const log = deps.logger ?? defaultLogger;
  if (!isWelcomeEmailMessage(message)) {
    log.error('Welcome email message is malformed; dropped', { welcomeEmail: 'malformed' });
    return { welcome: 'malformed' };
  }
  // Lets Powertools expire an in-progress record when this invocation times out, so a retry can send.
  if (context) sender.config.registerLambdaContext(context);
  const profile = (await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: profileKey(message.sub), ConsistentRead: true }))).Item;
  if (!profile) {
    log.error('Welcome email found no profile; dropped', { welcomeEmail: 'no-profile' });
    return { welcome: 'no-profile' };
  }
  const text = (key: string) => (typeof profile[key] === 'string' && profile[key] !== '' ? (profile[key] as string) : undefined);
  const email = text('email');
  if (!email) {
    log.info('No email address to welcome', { welcomeEmail: 'no-email' });
    return { welcome: 'no-email' };
  }
  if (profile.welcomeEmail === 'SENT') {
    log.info('Welcome email already sent by an earlier attempt', { welcomeEmail: 'already-sent' });
    return { welcome: 'already-sent' };
  }
  const name = text('name') ?? text('givenName');
  const attempt = { sub: message.sub, email, ...(name ? { name } : {}), called: false };
  try {
    await sender.once({ purpose: 'welcome', userPoolId: message.userPoolId, sub: message.sub }, attempt);
  } catch (error) {
    // A concurrent attempt may still fail, so "in progress" is retried too; the next try then sees its outcome.
    log.error('Welcome email not sent; Lambda retries the event', {
      welcomeEmail: 'retrying',
      errorName: errorName(error),
      emailDomain: emailDomain(email),
    });
    throw new WelcomeNotSentError('Welcome email not sent yet', { cause: error });
  }
  // Also when an earlier attempt sent but could not mark the profile.
  await markWelcomeSent(message.sub, deps);
  const welcome = attempt.called ? 'sent' : 'already-sent';
  log.info('Welcome email handled', { welcomeEmail: welcome, emailDomain: emailDomain(email) });
  return { welcome };
}
