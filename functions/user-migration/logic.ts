/**
 * Lazy user migration: the first time an unknown user signs in (or asks for a password reset), Cognito
 * asks this trigger whether the legacy directory knows them, and creates them from our answer.
 *
 * Every failure (wrong password, unknown user, a disabled account, a challenge the legacy side wants,
 * an outage) ends in the same refusal, so the answer never reveals whether an account exists.
 */
import type { UserMigrationTriggerEvent } from 'aws-lambda';
import { PROFILE_ATTRIBUTES } from '../common/attributes.ts';
import { UserFacingError, errorName } from '../common/errors.ts';
import { checkEmail, type DomainPolicy } from '../common/identity.ts';
import { normaliseLogin } from '../common/lockout.ts';
import { fingerprint, logger } from '../common/logger.ts';
import type { LegacyDirectory, LegacyOutcome } from './legacy-directory.ts';

/** The one message every failed migration shows (Cognito prefixes it with "UserMigration failed with error"). */
export const REFUSAL_MESSAGE = 'Incorrect username or password';

/** Cognito's standard attributes a migrated user may carry (`email_verified` is decided below, `sub` by Cognito). */
export const STANDARD_ATTRIBUTES: ReadonlySet<string> = new Set([...PROFILE_ATTRIBUTES, 'phone_number_verified']);

/** Cognito's limit on a username. */
const MAX_USERNAME = 128;
/** Cognito's limit on a password. */
const MAX_PASSWORD = 256;
/**
 * Both legacy calls share this deadline, so the trigger answers inside Cognito's 5 s even when the
 * legacy side hangs: an outage ends as the generic refusal, not as a Cognito timeout.
 */
export const MIGRATION_DEADLINE_MS = 4_000;

export interface MigrationDeps {
  readonly directory: LegacyDirectory;
  /** The domain rule: pre sign-up never runs for migrated users, so migration applies it itself. */
  readonly policy: DomainPolicy;
  /** `custom:` attributes that exist in the new pool and may be copied; none by default. */
  readonly customAttributes?: readonly string[];
  readonly deadlineMs?: number;
}

function refuse(): UserFacingError {
  return new UserFacingError('migration-refused', REFUSAL_MESSAGE);
}

/** The legacy attributes the new pool accepts: standard ones, plus the listed custom ones; never `sub`, `cognito:*` or `identities`. */
export function migratableAttributes(attributes: Readonly<Record<string, string>>, customAttributes: readonly string[] = []): Record<string, string> {
  const allowedCustom = new Set(customAttributes);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value !== 'string') continue;
    if (STANDARD_ATTRIBUTES.has(name) || (name.startsWith('custom:') && allowedCustom.has(name))) out[name] = value;
  }
  return out;
}

/**
 * `email_verified` for the migrated user. After a password sign-in it is the legacy directory's own
 * answer, unchanged: a legacy address nobody ever verified must not arrive verified. After a reset request
 * it is `true`: Cognito only sends a reset code to a verified address, and the user stays RESET_REQUIRED
 * until they type the code that went to that mailbox, so the account opens only to whoever holds it.
 */
export function emailVerified(source: 'UserMigration_Authentication' | 'UserMigration_ForgotPassword', legacy: string | undefined): 'true' | 'false' {
  if (source === 'UserMigration_ForgotPassword') return 'true';
  return legacy === 'true' ? 'true' : 'false';
}

/** Settles with `work`, or rejects when `signal` aborts first, so a directory that ignores the signal still cannot hold Cognito past its limit. */
function withDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/**
 * Answers a UserMigration_* event. Resolves the event with its response filled in, or rejects with the
 * one generic {@link REFUSAL_MESSAGE}. The password is passed to the directory and nowhere else.
 */
export async function migrateUser(event: UserMigrationTriggerEvent, deps: MigrationDeps): Promise<UserMigrationTriggerEvent> {
  const source = (event as { triggerSource?: unknown } | null)?.triggerSource;
  const userName = (event as { userName?: unknown } | null)?.userName;
  const user = typeof userName === 'string' ? fingerprint(userName) : undefined;
  if (source !== 'UserMigration_Authentication' && source !== 'UserMigration_ForgotPassword') {
    logger.warn('Migration refused', { reason: 'unknown-source', user });
    throw refuse();
  }
  if (typeof userName !== 'string' || userName.trim() === '' || userName.length > MAX_USERNAME) {
    logger.warn('Migration refused', { source, reason: 'bad-username' });
    throw refuse();
  }
  const password = (event.request as { password?: unknown } | undefined)?.password;
  if (source === 'UserMigration_Authentication' && (typeof password !== 'string' || password === '' || password.length > MAX_PASSWORD)) {
    logger.warn('Migration refused', { source, reason: 'bad-password-field', user });
    throw refuse();
  }

  let outcome: LegacyOutcome;
  try {
    const signal = AbortSignal.timeout(deps.deadlineMs ?? MIGRATION_DEADLINE_MS);
    const lookup =
      source === 'UserMigration_Authentication' ? deps.directory.authenticate(userName, password as string, signal) : deps.directory.find(userName, signal);
    outcome = await withDeadline(lookup, signal);
  } catch (error) {
    logger.error('Legacy directory unavailable; migration refused', { source, user, error: errorName(error) });
    throw refuse();
  }
  if (!outcome.found) {
    logger.warn('Migration refused', { source, reason: outcome.reason, user });
    throw refuse();
  }

  const attributes = migratableAttributes(outcome.user.attributes, deps.customAttributes);
  // The same rule as every sign-up: the legacy directory may hold addresses the new pool would never admit.
  const check = checkEmail(attributes.email, deps.policy, 'sign-up');
  if (!check.allowed) {
    const reason = check.reason === 'missing' ? 'no-email' : check.reason === 'domain-not-allowed' ? check.reason : 'bad-email';
    logger.warn('Migration refused', { source, reason, user, ...(check.domain ? { emailDomain: check.domain } : {}) });
    throw refuse();
  }
  const email = attributes.email!.trim();
  // Signing in with an address that is not the account's own would file the user under the wrong email.
  // Compared as lockout keys are derived: ASCII case only, so no Unicode look-alike matches an address.
  if (userName.includes('@') && normaliseLogin(userName) !== normaliseLogin(email)) {
    logger.warn('Migration refused', { source, reason: 'email-mismatch', user });
    throw refuse();
  }

  const userAttributes = { ...attributes, email, email_verified: emailVerified(source, outcome.user.attributes.email_verified) };
  logger.info('User migrated', { source, user });
  return {
    ...event,
    response: {
      userAttributes,
      // The legacy directory vouched for this user, so no welcome or confirmation message is due.
      messageAction: 'SUPPRESS',
      desiredDeliveryMediums: ['EMAIL'],
      // After a password sign-in the user is fully confirmed; after a reset request Cognito leaves them
      // RESET_REQUIRED until they confirm the code and choose a new password.
      ...(source === 'UserMigration_Authentication' ? { finalUserStatus: 'CONFIRMED' as const } : {}),
    },
  } as UserMigrationTriggerEvent;
}
