/**
 * Post confirmation: saves the confirmed user's profile and sends one welcome email.
 *
 * Cognito retries a trigger that is slow or fails (up to 3 times), so both effects are idempotent:
 * - the profile is a conditional put, and "it already exists" counts as success;
 * - the welcome email goes through Powertools Idempotency keyed on (userPoolId, sub), stored in the same
 *   table (`pk` = `idempotency#<function>`, `sk` = hash of the key): however often Cognito calls, one email.
 *
 * When SES fails the confirmation still succeeds (the account is already confirmed; an error here would
 * only show the user a failure for something that worked), and Cognito never retries a trigger that
 * succeeded, so the email is handed to a durable retry instead:
 * - the function invokes itself asynchronously (`InvocationType: Event`) with a small retry message
 *   (`{"kind": "welcome-email-retry", userPoolId, sub}`, no address: it is read back from the profile);
 *   that invocation sends through the same idempotent sender and throws on failure, so Lambda's own
 *   asynchronous retries (configured on the function: 2 retries with backoff) keep trying for hours;
 * - the profile carries `welcomeEmail: "PENDING"` from the start and becomes `"SENT"` only after SES accepted
 *   the message, so every unsent welcome stays durably recorded even if every retry fails;
 * - if even the hand-off fails, an ERROR log line with `welcomeEmail: "failed"` is emitted for an alarm
 *   (metric filter), and the PENDING profile is the record to re-send from;
 * - the idempotency record is released on failure, so any later attempt can send, and only one can.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, PostConfirmationTriggerEvent } from 'aws-lambda';
import { ConfigError, RUNTIME_ENV, type BrandingSettings, type SenderIdentity } from '../common/config.ts';
import { sendEmail } from '../common/email.ts';
import { errorName, UserFacingError } from '../common/errors.ts';
import { parseEmailAddress } from '../common/identity.ts';
import { emailDomain, logger as defaultLogger } from '../common/logger.ts';
import { renderEmail } from '../common/templates.ts';

/** How long a sent welcome is remembered; far beyond any Cognito retry, and a user is confirmed only once. */
export const WELCOME_MEMORY_SECONDS = 7 * 24 * 3600;

export interface PostConfirmationDeps {
  readonly db: Pick<DynamoDBDocumentClient, 'send'>;
  readonly ses: Pick<SESv2Client, 'send'>;
  readonly tableName: string;
  readonly branding: BrandingSettings;
  readonly from: SenderIdentity;
  readonly now: () => number;
  /** Hands a failed welcome email to an asynchronous invocation of this same function. */
  readonly lambda: Pick<LambdaClient, 'send'>;
  /** This function's name (AWS_LAMBDA_FUNCTION_NAME, set by the Lambda runtime); only a hand-off needs it. */
  readonly functionName: string | undefined;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

/**
 * `retrying`: SES failed and the email was handed to an asynchronous retry; `failed`: the hand-off
 * failed too, and only the PENDING profile remembers the email.
 */
export type WelcomeOutcome = 'sent' | 'already-sent' | 'in-progress' | 'no-email' | 'retrying' | 'failed';

/** The `kind` of the message post-confirmation sends itself; Cognito events never carry a `kind`. */
export const WELCOME_RETRY_KIND = 'welcome-email-retry';

/** What the asynchronous retry needs: identifiers only, the address is read back from the profile. */
export interface WelcomeRetryMessage {
  readonly kind: typeof WELCOME_RETRY_KIND;
  readonly userPoolId: string;
  readonly sub: string;
}

/** Outcome of one asynchronous retry that did not throw. */
export interface WelcomeRetryResult {
  readonly welcome: 'sent' | 'already-sent' | 'no-profile' | 'no-email' | 'malformed';
}

/** Thrown by the asynchronous retry when the email is still not sent, so Lambda retries the event. */
export class WelcomeNotSentError extends Error {
  override readonly name = 'WelcomeNotSentError';
}

/** Time kept back from a hand-off so the answer still reaches Cognito before its 5 s. */
export const HAND_OFF_RESERVE_MS = 300;

export interface PostConfirmationResult {
  readonly profile: 'created' | 'already-existed' | 'skipped';
  readonly welcome: WelcomeOutcome | 'skipped';
}

/** The profile row of a user (see the table layout in the README). */
export function profileKey(sub: string): { pk: string; sk: string } {
  return { pk: `USER#${sub}`, sk: 'PROFILE' };
}

interface Confirmed {
  sub: string;
  email?: string;
  name?: string;
  givenName?: string;
}

function confirmedUser(event: PostConfirmationTriggerEvent): Confirmed {
  const attributes: Record<string, unknown> = event?.request?.userAttributes ?? {};
  const text = (key: string) => (typeof attributes[key] === 'string' && attributes[key] !== '' ? (attributes[key] as string) : undefined);
  const sub = text('sub');
  if (!sub) throw new UserFacingError('malformed-event', 'We could not complete your sign-up. Please sign in to continue');
  const parsed = parseEmailAddress(text('email'));
  const name = text('name')?.slice(0, 256);
  const givenName = text('given_name')?.slice(0, 256);
  return { sub, ...(parsed.ok ? { email: parsed.value.address } : {}), ...(name ? { name } : {}), ...(givenName ? { givenName } : {}) };
}

async function writeProfile(user: Confirmed, deps: PostConfirmationDeps): Promise<'created' | 'already-existed'> {
  const at = new Date(deps.now()).toISOString();
  try {
    await deps.db.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: {
          ...profileKey(user.sub),
          sub: user.sub,
          ...(user.email ? { email: user.email, welcomeEmail: 'PENDING' } : {}),
          ...(user.name ? { name: user.name } : {}),
          ...(user.givenName ? { givenName: user.givenName } : {}),
          createdAt: at,
          confirmedAt: at,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return 'created';
  } catch (error) {
    // A retry of this confirmation already wrote it.
    if (errorName(error) === 'ConditionalCheckFailedException') return 'already-existed';
    throw error;
  }
}

/** Builds the idempotent welcome sender once (at module scope in the handler). */
export function welcomeSender(deps: PostConfirmationDeps, persistenceStore: BasePersistenceLayer) {
  const config = new IdempotencyConfig({ expiresAfterSeconds: WELCOME_MEMORY_SECONDS });
  // The key object holds identifiers only; Powertools stores its hash, and the result below holds no personal data.
  const once = makeIdempotent(
    async (_key: { purpose: 'welcome'; userPoolId: string; sub: string }, user: Confirmed & { email: string; called: boolean }) => {
      user.called = true;
      const email = renderEmail('Welcome', {
        branding: deps.branding,
        recipient: { email: user.email, ...(user.name || user.givenName ? { name: (user.name ?? user.givenName)! } : {}) },
      });
      await sendEmail(deps.ses, deps.from, user.email, email);
      return { sent: true };
    },
    { persistenceStore, config, dataIndexArgument: 0 },
  );
  return { once, config };
}

export type WelcomeSender = ReturnType<typeof welcomeSender>;

async function markWelcomeSent(user: Confirmed, deps: PostConfirmationDeps): Promise<void> {
  const log = deps.logger ?? defaultLogger;
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: profileKey(user.sub),
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

/**
 * Invokes this function asynchronously with the retry message. Lambda accepts the event durably (202)
 * and retries it on its own schedule; the Cognito answer stays successful whatever happens here.
 */
async function handOff(
  message: WelcomeRetryMessage,
  email: string,
  sesError: unknown,
  deps: PostConfirmationDeps,
  context: Context | undefined,
): Promise<'retrying' | 'failed'> {
  const log = deps.logger ?? defaultLogger;
  const budgetMs = context ? context.getRemainingTimeInMillis() - HAND_OFF_RESERVE_MS : undefined;
  try {
    if (!deps.functionName) throw new ConfigError(`Environment variable ${RUNTIME_ENV.functionName} is required to hand the welcome email to a retry`);
    if (budgetMs !== undefined && budgetMs <= 0) throw Object.assign(new Error('No time left before Cognito gives up'), { name: 'HandOffOutOfTime' });
    await deps.lambda.send(
      new InvokeCommand({ FunctionName: deps.functionName, InvocationType: 'Event', Payload: JSON.stringify(message) }),
      budgetMs === undefined ? {} : { abortSignal: AbortSignal.timeout(budgetMs) },
    );
  } catch (handOffError) {
    log.error('Welcome email not sent and not handed to a retry; profile keeps welcomeEmail PENDING for a re-send', {
      welcomeEmail: 'failed',
      errorName: errorName(sesError),
      handOffErrorName: errorName(handOffError),
      emailDomain: emailDomain(email),
    });
    return 'failed';
  }
  log.warn('Welcome email not sent; handed to an asynchronous retry', {
    welcomeEmail: 'retrying',
    errorName: errorName(sesError),
    emailDomain: emailDomain(email),
  });
  return 'retrying';
}

async function sendWelcome(
  event: PostConfirmationTriggerEvent,
  user: Confirmed,
  deps: PostConfirmationDeps,
  sender: WelcomeSender,
  context: Context | undefined,
): Promise<WelcomeOutcome> {
  const log = deps.logger ?? defaultLogger;
  if (!user.email) {
    log.info('No email address to welcome', { welcomeEmail: 'no-email' });
    return 'no-email';
  }
  try {
    const attempt = { ...user, email: user.email, called: false };
    await sender.once({ purpose: 'welcome', userPoolId: String(event.userPoolId), sub: user.sub }, attempt);
    // Powertools answers a replay from the stored record without calling the function.
    if (!attempt.called) {
      log.info('Welcome email already sent by an earlier attempt', { welcomeEmail: 'already-sent' });
      return 'already-sent';
    }
  } catch (error) {
    if (errorName(error) === 'IdempotencyAlreadyInProgressError') {
      log.info('Welcome email is being sent by a concurrent attempt', { welcomeEmail: 'in-progress' });
      return 'in-progress';
    }
    return handOff({ kind: WELCOME_RETRY_KIND, userPoolId: String(event.userPoolId), sub: user.sub }, user.email, error, deps, context);
  }
  await markWelcomeSent(user, deps);
  log.info('Welcome email handled', { welcomeEmail: 'sent', emailDomain: emailDomain(user.email) });
  return 'sent';
}

/**
 * Handles one post-confirmation event. Only `PostConfirmation_ConfirmSignUp` acts: a password reset
 * (`PostConfirmation_ConfirmForgotPassword`) is not a new user. A failed profile write throws (the
 * generic message), since that is lost data Cognito's retry can still save; a failed email does not.
 */
export async function postConfirmation(
  event: PostConfirmationTriggerEvent,
  deps: PostConfirmationDeps,
  sender: WelcomeSender,
  context?: Context,
): Promise<PostConfirmationResult> {
  const log = deps.logger ?? defaultLogger;
  if (event?.triggerSource !== 'PostConfirmation_ConfirmSignUp') {
    log.info('Nothing to do for this source', { triggerSource: String(event?.triggerSource).slice(0, 100) });
    return { profile: 'skipped', welcome: 'skipped' };
  }
  const user = confirmedUser(event);
  // Lets Powertools expire an in-progress record when this invocation times out, so a retry can send.
  if (context) sender.config.registerLambdaContext(context);
  const profile = await writeProfile(user, deps);
  log.info('Profile saved', { profile });
  const welcome = await sendWelcome(event, user, deps, sender, context);
  return { profile, welcome };
}

/** Whether an event is the retry message rather than a Cognito event. */
export function isWelcomeRetry(event: unknown): event is WelcomeRetryMessage {
  return typeof event === 'object' && event !== null && (event as { kind?: unknown }).kind === WELCOME_RETRY_KIND;
}

const wellFormed = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= 256;

/**
 * Handles one asynchronous retry of a welcome email: reads the address back from the profile, sends
 * through the same idempotent sender (so a user gets one welcome however many attempts run) and marks
 * the profile SENT. Throws {@link WelcomeNotSentError} while the email cannot be sent, so Lambda retries
 * the event; a message that can never succeed (malformed, no profile, no address) is logged and dropped.
 */
export async function retryWelcome(
  message: WelcomeRetryMessage,
  deps: PostConfirmationDeps,
  sender: WelcomeSender,
  context?: Context,
): Promise<WelcomeRetryResult> {
  const log = deps.logger ?? defaultLogger;
  if (!wellFormed(message.userPoolId) || !wellFormed(message.sub)) {
    log.error('Welcome retry message is malformed; dropped', { welcomeEmail: 'malformed' });
    return { welcome: 'malformed' };
  }
  if (context) sender.config.registerLambdaContext(context);
  const profile = (await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: profileKey(message.sub), ConsistentRead: true }))).Item;
  if (!profile) {
    log.error('Welcome retry found no profile; dropped', { welcomeEmail: 'no-profile' });
    return { welcome: 'no-profile' };
  }
  const text = (key: string) => (typeof profile[key] === 'string' && profile[key] !== '' ? (profile[key] as string) : undefined);
  const email = text('email');
  if (!email) {
    log.info('No email address to welcome', { welcomeEmail: 'no-email' });
    return { welcome: 'no-email' };
  }
  const user: Confirmed = { sub: message.sub, email, ...(text('name') ? { name: text('name')! } : {}), ...(text('givenName') ? { givenName: text('givenName')! } : {}) };
  if (profile.welcomeEmail === 'SENT') {
    log.info('Welcome email already sent by an earlier attempt', { welcomeEmail: 'already-sent' });
    return { welcome: 'already-sent' };
  }
  const attempt = { ...user, email, called: false };
  try {
    await sender.once({ purpose: 'welcome', userPoolId: message.userPoolId, sub: message.sub }, attempt);
  } catch (error) {
    // A concurrent attempt may still fail, so "in progress" is retried too; the next try then sees its outcome.
    log.error('Welcome email retry failed; Lambda retries the event', {
      welcomeEmail: 'retry-failed',
      errorName: errorName(error),
      emailDomain: emailDomain(email),
    });
    throw new WelcomeNotSentError('Welcome email not sent yet', { cause: error });
  }
  // Also when an earlier attempt sent but could not mark the profile.
  await markWelcomeSent(user, deps);
  const welcome = attempt.called ? 'sent' : 'already-sent';
  log.info('Welcome email handled by the asynchronous retry', { welcomeEmail: welcome, emailDomain: emailDomain(email) });
  return { welcome };
}
