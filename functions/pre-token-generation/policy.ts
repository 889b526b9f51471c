/**
 * The domain rule at the last gate: no tokens for an account whose address is outside the allowed
 * domains, on every source (password, SRP, hosted UI, federation, device, refresh).
 *
 * Every other path already refuses such an address, so this refuses only what slipped past them: an
 * administrator who sets `email` together with `email_verified = true` (AdminUpdateUserAttributes skips
 * verification and every trigger), an attribute mapping that rewrites a federated user's email on a later
 * sign-in (pre sign-up runs only at the first), and accounts created before the list changed.
 */
import { UserFacingError } from '../common/errors.ts';
import { checkEmail, type DomainPolicy } from '../common/identity.ts';
import { logger as defaultLogger } from '../common/logger.ts';
import type { TokenEvent } from './logic.ts';

/**
 * Throws a {@link UserFacingError} (shown as `PreTokenGeneration failed with error …`, so no token is
 * issued) when the account's `email` is missing, malformed or outside the policy. Machine-to-machine
 * events have no user and pass. Cognito calls this trigger only once the user has proved who they are,
 * so the refusal tells nothing to someone who does not already hold the account.
 */
export function enforceDomainPolicy(event: TokenEvent, policy: DomainPolicy, log: Pick<typeof defaultLogger, 'warn'> = defaultLogger): void {
  const source = String(event?.triggerSource);
  if (source === 'TokenGeneration_ClientCredentials') return;
  const email: unknown = (event?.request as { userAttributes?: Record<string, unknown> } | undefined)?.userAttributes?.email;
  const check = checkEmail(email, policy, 'sign-in');
  if (check.allowed) return;
  log.warn('Tokens refused: the account address is outside the domain policy', {
    triggerSource: source.slice(0, 100),
    reason: check.reason,
    ...(check.domain ? { emailDomain: check.domain } : {}),
  });
  throw new UserFacingError(check.reason, check.message);
}
