/**
 * One structured JSON logger per function, built at module scope.
 *
 * Rules every caller follows: never log an event, a password, a code (plain or encrypted), a token,
 * a secret or an API key. Log identifiers through {@link fingerprint} and domains rather than addresses.
 */
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';

/** The function's logger; service name and level come from POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL. */
export const logger = new Logger({ logRecordOrder: ['timestamp', 'level', 'service', 'message'] });

/**
 * A short, stable pseudonym for a personal value (the first 64 bits of an unkeyed SHA-256 of the value,
 * trimmed and lower-cased), so that log lines about the same user can be joined without the value itself
 * appearing. It is not a secret: anyone who can guess the value can compute it and confirm the guess.
 * docs/functions.md ("Log fingerprints") says what it protects against, and why it is not keyed.
 */
export function fingerprint(value: string): string {
  return createHash('sha256').update(value.trim().toLowerCase()).digest('hex').slice(0, 16);
}

/** The domain part of an email address, which is safe to log; `undefined` when there is none. */
export function emailDomain(email: string | undefined): string | undefined {
  if (!email) return undefined;
  const at = email.lastIndexOf('@');
  return at < 0 ? undefined : email.slice(at + 1).toLowerCase();
}
