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
 *
 * A completed password reset (`PostConfirmation_ConfirmForgotPassword`) clears the sign-in lockout of the
 * account's login: counter, lock and escalation level, as Auth0 and Keycloak do. Only the owner of the
 * address could read the reset code, so an attacker who keeps the login locked cannot also keep its owner
 * from resetting and signing in.
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { errorName, UserFacingError } from '../common/errors.ts';
import { parseEmailAddress } from '../common/identity.ts';
import { clearLockout, lockoutLogin } from '../common/lockout.ts';
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
  /** After a password reset: whether the login's lockout state was cleared (`failed`: DynamoDB refused; the lock then runs out by itself). */
  readonly lockout?: 'cleared' | 'nothing-to-clear' | 'failed';
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
 * After a password reset: deletes the attempt state of the login the account is counted against (its
 * email, its username without one), exactly the key pre-authentication counts and post-authentication
 * clears. The password is already changed when this runs, so a failure is logged and the reset still
 * succeeds: refusing it would only tell the owner something false, and the lock runs out by itself.
 */
async function clearLockAfterReset(event: PostConfirmationTriggerEvent, deps: PostConfirmationDeps): Promise<PostConfirmationResult> {
  const log = deps.logger ?? defaultLogger;
  const attributes: Record<string, unknown> = event?.request?.userAttributes ?? {};
  const email = typeof attributes.email === 'string' ? attributes.email : undefined;
  const userName = typeof event?.userName === 'string' ? event.userName : '';
  if (!email && !userName) throw new UserFacingError('malformed-event', 'We could not complete your request. Please try again later');
  try {
    const was = await clearLockout(deps.db, deps.tableName, lockoutLogin({ userName, email }));
    const lockout = was ? 'cleared' : 'nothing-to-clear';
    log.info('Password reset; sign-in lockout cleared', { lockout, wasLocked: was ? was.lockedUntil > deps.now() : false });
    return { profile: 'skipped', welcome: 'skipped', lockout };
  } catch (error) {
    log.error('Password reset; sign-in lockout could not be cleared', { errorName: errorName(error) });
    return { profile: 'skipped', welcome: 'skipped', lockout: 'failed' };
  }
}

/**
 * Handles one post-confirmation event. `PostConfirmation_ConfirmSignUp` saves the profile;
 * `PostConfirmation_ConfirmForgotPassword` (a completed password reset, not a new user) clears the
 * login's lockout. A failed profile write throws (the generic message), since that is lost data, and
 * with it the welcome email, which Cognito's retry can still save.
 */
export async function postConfirmation(event: PostConfirmationTriggerEvent, deps: PostConfirmationDeps): Promise<PostConfirmationResult> {
  const log = deps.logger ?? defaultLogger;
  const source: unknown = event?.triggerSource;
  if (source === 'PostConfirmation_ConfirmForgotPassword') return clearLockAfterReset(event, deps);
  if (source !== 'PostConfirmation_ConfirmSignUp') {
    log.info('Nothing to do for this source', { triggerSource: String(source).slice(0, 100) });
    return { profile: 'skipped', welcome: 'skipped' };
  }
  const user = confirmedUser(event);
  const profile = await writeProfile(user, deps);
  const welcome: WelcomeOutcome = user.email ? 'queued' : 'no-email';
  log.info('Profile saved', { profile, welcomeEmail: welcome });
  return { profile, welcome };
}
