/**
 * Post confirmation: saves the confirmed user's profile and sends one welcome email.
 *
 * Cognito retries a trigger that is slow or fails (up to 3 times), so both effects are idempotent:
 * - the profile is a conditional put, and "it already exists" counts as success;
 * - the welcome email goes through Powertools Idempotency keyed on (userPoolId, sub), stored in the same
 *   table (`pk` = `idempotency#<function>`, `sk` = hash of the key): however often Cognito calls, one email.
 *
 * When SES fails the confirmation still succeeds (the account is already confirmed; an error here would
 * only show the user a failure for something that worked), but the email is not lost silently:
 * - the profile carries `welcomeEmail: "PENDING"` from the start and becomes `"SENT"` only after SES accepted
 *   the message, so every unsent welcome is durably recorded and can be found and re-sent;
 * - an ERROR log line with `welcomeEmail: "failed"` is emitted for an alarm (metric filter);
 * - the idempotency record is released, so a Cognito retry of the same confirmation tries again.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context, PostConfirmationTriggerEvent } from 'aws-lambda';
import type { BrandingSettings, SenderIdentity } from '../common/config.ts';
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
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

export type WelcomeOutcome = 'sent' | 'already-sent' | 'in-progress' | 'no-email' | 'failed';

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

async function sendWelcome(event: PostConfirmationTriggerEvent, user: Confirmed, deps: PostConfirmationDeps, sender: WelcomeSender): Promise<WelcomeOutcome> {
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
    log.error('Welcome email not sent; profile keeps welcomeEmail PENDING for a re-send', {
      welcomeEmail: 'failed',
      errorName: errorName(error),
      emailDomain: emailDomain(user.email),
    });
    return 'failed';
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
  const welcome = await sendWelcome(event, user, deps, sender);
  return { profile, welcome };
}
