/**
 * Post confirmation: saves the confirmed user's profile and hands the welcome email to send-welcome-email.
 *
 * Cognito waits for this trigger (5 s at most) and retries it when it is slow or fails (up to 3 times),
 * so it does only what must happen before the answer, idempotently:
 * - the profile is a conditional put, and "it already exists" counts as success; it carries
 *   `welcomeEmail: "PENDING"` from the start, the durable record of the email still to send;
 * - the email itself is sent by send-welcome-email, invoked asynchronously (`InvocationType: Event`) with
 *   `{"kind": "welcome-email", userPoolId, sub}` (no address: it reads it back from the profile). Lambda
 *   accepts that event durably in milliseconds and retries it for hours, and send-welcome-email is
 *   idempotent, so a hand-off repeated by a Cognito retry still sends one email.
 *
 * When the hand-off fails the confirmation still succeeds (the account is already confirmed; an error here
 * would only show the user a failure for something that worked): an ERROR log line with
 * `welcomeEmail: "failed"` is emitted for an alarm (metric filter), and the PENDING profile is the record
 * to re-send from.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, PostConfirmationTriggerEvent } from 'aws-lambda';
import { errorName, UserFacingError } from '../common/errors.ts';
import { parseEmailAddress } from '../common/identity.ts';
import { emailDomain, logger as defaultLogger } from '../common/logger.ts';

export interface PostConfirmationDeps {
  readonly db: Pick<DynamoDBDocumentClient, 'send'>;
  readonly tableName: string;
  readonly now: () => number;
  /** Hands the welcome email to send-welcome-email. */
  readonly lambda: Pick<LambdaClient, 'send'>;
  /** The send-welcome-email function's name. */
  readonly welcomeEmailFunctionName: string;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

/**
 * `handed-off`: send-welcome-email accepted the event; `failed`: the hand-off failed, and only the
 * PENDING profile remembers the email.
 */
export type WelcomeOutcome = 'handed-off' | 'no-email' | 'failed';

/** The `kind` of the message send-welcome-email expects. */
export const WELCOME_EMAIL_KIND = 'welcome-email';

/** What send-welcome-email needs: identifiers only, the address is read back from the profile. */
export interface WelcomeEmailMessage {
  readonly kind: typeof WELCOME_EMAIL_KIND;
  readonly userPoolId: string;
  readonly sub: string;
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

/**
 * Invokes send-welcome-email asynchronously. Lambda accepts the event durably (202) and retries it on its
 * own schedule; the Cognito answer stays successful whatever happens here.
 */
async function handOff(message: WelcomeEmailMessage, email: string, deps: PostConfirmationDeps, context: Context | undefined): Promise<WelcomeOutcome> {
  const log = deps.logger ?? defaultLogger;
  const budgetMs = context ? context.getRemainingTimeInMillis() - HAND_OFF_RESERVE_MS : undefined;
  try {
    if (budgetMs !== undefined && budgetMs <= 0) throw Object.assign(new Error('No time left before Cognito gives up'), { name: 'HandOffOutOfTime' });
    await deps.lambda.send(
      new InvokeCommand({ FunctionName: deps.welcomeEmailFunctionName, InvocationType: 'Event', Payload: JSON.stringify(message) }),
      budgetMs === undefined ? {} : { abortSignal: AbortSignal.timeout(budgetMs) },
    );
  } catch (error) {
    log.error('Welcome email not handed to send-welcome-email; profile keeps welcomeEmail PENDING for a re-send', {
      welcomeEmail: 'failed',
      errorName: errorName(error),
      emailDomain: emailDomain(email),
    });
    return 'failed';
  }
  log.info('Welcome email handed to send-welcome-email', { welcomeEmail: 'handed-off', emailDomain: emailDomain(email) });
  return 'handed-off';
}

/**
 * Handles one post-confirmation event. Only `PostConfirmation_ConfirmSignUp` acts: a password reset
 * (`PostConfirmation_ConfirmForgotPassword`) is not a new user. A failed profile write throws (the
 * generic message), since that is lost data Cognito's retry can still save; a failed hand-off does not.
 */
export async function postConfirmation(event: PostConfirmationTriggerEvent, deps: PostConfirmationDeps, context?: Context): Promise<PostConfirmationResult> {
  const log = deps.logger ?? defaultLogger;
  if (event?.triggerSource !== 'PostConfirmation_ConfirmSignUp') {
    log.info('Nothing to do for this source', { triggerSource: String(event?.triggerSource).slice(0, 100) });
    return { profile: 'skipped', welcome: 'skipped' };
  }
  const user = confirmedUser(event);
  const profile = await writeProfile(user, deps);
  log.info('Profile saved', { profile });
  if (!user.email) {
    log.info('No email address to welcome', { welcomeEmail: 'no-email' });
    return { profile, welcome: 'no-email' };
  }
  // Also when the profile already existed: an earlier attempt may have failed between the put and the hand-off.
  const welcome = await handOff({ kind: WELCOME_EMAIL_KIND, userPoolId: String(event.userPoolId), sub: user.sub }, user.email, deps, context);
  return { profile, welcome };
}
