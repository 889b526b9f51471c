/**
 * Post confirmation: saves the confirmed user's profile. That one write also queues the welcome email.
 *
 * Cognito waits for this trigger (5 s at most) and retries it when it is slow or fails (up to 3 times),
 * so it does one thing, idempotently: a conditional put of the profile, where "it already exists" counts
 * as success.
 *
 * The welcome email uses the table as a transactional outbox. A user with an address gets a profile
 * with `welcomeEmail: "PENDING"` (and the pool id, half of the email's idempotency key). The table's
 * stream carries that INSERT to send-welcome-email through an event source mapping that only passes new
 * PENDING profiles (infra/stream-trigger.ts); Lambda retries it there, and the failure queue
 * records what it could not deliver. So the email is queued exactly when the profile is saved: there is
 * no second call that could fail after the first succeeded, and this trigger needs no client but DynamoDB.
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { errorName, UserFacingError } from '../common/errors.ts';
import { parseEmailAddress } from '../common/identity.ts';
import { logger as defaultLogger } from '../common/logger.ts';
import { profileKey, WELCOME_STATUS } from '../common/table.ts';

export interface PostConfirmationDeps {
  readonly db: Pick<DynamoDBDocumentClient, 'send'>;
  readonly tableName: string;
  readonly now: () => number;
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

/**
 * `queued`: the profile (now or on an earlier attempt) carries `welcomeEmail: "PENDING"`, which the
 * table's stream delivers to send-welcome-email; `no-email`: the user has no usable address.
 */
export type WelcomeOutcome = 'queued' | 'no-email';

export interface PostConfirmationResult {
  readonly profile: 'created' | 'already-existed' | 'skipped';
  readonly welcome: WelcomeOutcome | 'skipped';
}

interface Confirmed {
  sub: string;
  userPoolId?: string;
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
  // Trustworthy: the function's invoke permission is scoped to this pool.
  const userPoolId = typeof event.userPoolId === 'string' && event.userPoolId !== '' ? event.userPoolId.slice(0, 256) : undefined;
  return {
    sub,
    ...(userPoolId ? { userPoolId } : {}),
    ...(parsed.ok ? { email: parsed.value.address } : {}),
    ...(name ? { name } : {}),
    ...(givenName ? { givenName } : {}),
  };
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
          ...(user.userPoolId ? { userPoolId: user.userPoolId } : {}),
          ...(user.email ? { email: user.email, welcomeEmail: WELCOME_STATUS.pending } : {}),
          ...(user.name ? { name: user.name } : {}),
          ...(user.givenName ? { givenName: user.givenName } : {}),
          createdAt: at,
          confirmedAt: at,
        },
        // Also what makes the outbox exactly-once: only the first put is an INSERT on the stream.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return 'created';
  } catch (error) {
    // A retry of this confirmation already wrote it, and with it queued the welcome email.
    if (errorName(error) === 'ConditionalCheckFailedException') return 'already-existed';
    throw error;
  }
}

/**
 * Handles one post-confirmation event. Only `PostConfirmation_ConfirmSignUp` acts: a password reset
 * (`PostConfirmation_ConfirmForgotPassword`) is not a new user. A failed profile write throws (the
 * generic message), since that is lost data, and with it the welcome email, which Cognito's retry can still save.
 */
export async function postConfirmation(event: PostConfirmationTriggerEvent, deps: PostConfirmationDeps): Promise<PostConfirmationResult> {
  const log = deps.logger ?? defaultLogger;
  if (event?.triggerSource !== 'PostConfirmation_ConfirmSignUp') {
    log.info('Nothing to do for this source', { triggerSource: String(event?.triggerSource).slice(0, 100) });
    return { profile: 'skipped', welcome: 'skipped' };
  }
  const user = confirmedUser(event);
  const profile = await writeProfile(user, deps);
  const welcome: WelcomeOutcome = user.email ? 'queued' : 'no-email';
  log.info('Profile saved', { profile, welcomeEmail: welcome });
  return { profile, welcome };
}
