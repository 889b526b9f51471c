/**
 * The pre-authentication decision: count the attempt, refuse it when the login is locked, and decide
 * what a DynamoDB failure means. Users who do not exist go through exactly the same path, keyed by
 * what they typed, so the answer (message and work done) cannot tell them apart from real users.
 */
import type { PreAuthenticationTriggerEvent } from 'aws-lambda';
import { GENERIC_MESSAGE, UserFacingError, errorName } from '../common/errors.ts';
import { lockoutLogin } from '../common/lockout.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { recordAttempt, type AttemptDeps } from './attempts.ts';

/** How long until `retryAt`, in words a person reads at a glance; always rounded up. */
export function describeWait(retryAt: number, now: number): string {
  const seconds = Math.max(1, Math.ceil((retryAt - now) / 1000));
  const minutes = Math.ceil(seconds / 60);
  if (minutes <= 1) return '1 minute';
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.ceil(minutes / 60);
  return `${hours} hours`;
}

/** The refusal shown to the person signing in. It names no account and says nothing about whether one exists. */
export function lockedMessage(retryAt: number, now: number): string {
  return `Too many sign-in attempts. Try again in ${describeWait(retryAt, now)}`;
}

/** Errors that mean DynamoDB is shedding load on this key, which a flood of attempts on one login causes. */
const THROTTLING_ERRORS = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);

/**
 * Counts one sign-in attempt and throws a {@link UserFacingError} when it must not proceed.
 * Returns normally when the password check may go ahead.
 */
export async function checkSignInAttempt(deps: AttemptDeps, event: PreAuthenticationTriggerEvent): Promise<void> {
  const request = event.request as Partial<PreAuthenticationTriggerEvent['request']> | undefined;
  const userNotFound = request?.userNotFound === true;
  const email = request?.userAttributes?.email;
  const userName = typeof event.userName === 'string' ? event.userName : '';
  const login = lockoutLogin({ userName, email: typeof email === 'string' ? email : undefined, userNotFound });
  if (login === '') {
    logger.warn('sign-in attempt without a login', { reason: 'malformed-event' });
    throw new UserFacingError('malformed-event', GENERIC_MESSAGE);
  }
  const loginFingerprint = fingerprint(login);

  // Only the stored item differs for an unknown login (no owner to tell); the answer and the work do not.
  const owner = !userNotFound && userName !== '' && typeof event.userPoolId === 'string' && event.userPoolId !== '' ? { userPoolId: event.userPoolId, userName } : undefined;
  let outcome;
  try {
    outcome = await recordAttempt(deps, login, owner);
  } catch (error) {
    const throttled = THROTTLING_ERRORS.has(errorName(error));
    // Throttling on a lockout key is what an attack on one account looks like, so it never opens the door.
    if (deps.settings.failMode === 'open' && !throttled) {
      logger.error('attempt counter unavailable; sign-in allowed (fail-open)', { login: loginFingerprint, error: errorName(error) });
      return;
    }
    logger.error('attempt counter unavailable; sign-in refused (fail-closed)', { login: loginFingerprint, error: errorName(error), throttled });
    throw new UserFacingError('lockout-unavailable', GENERIC_MESSAGE, { cause: error });
  }

  if (outcome.allowed) {
    logger.info('sign-in attempt counted', { login: loginFingerprint, attempts: outcome.attempts, maxAttempts: deps.settings.maxAttempts, userNotFound });
    return;
  }
  const now = deps.now();
  logger.warn('sign-in attempt refused', {
    login: loginFingerprint,
    reason: outcome.reason,
    lockedUntil: new Date(outcome.retryAt).toISOString(),
    lockCount: outcome.lockCount,
    userNotFound,
  });
  throw new UserFacingError(outcome.reason, lockedMessage(outcome.retryAt, now));
}
