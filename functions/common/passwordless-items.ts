/**
 * The table items of passwordless sign-in, all under one partition per login: the message throttle,
 * each issued link or code, and the marker of the last passwordless sign-in. See ./passwordless.ts.
 */
import { loginKeyId } from './lockout.ts';

const KEY_PREFIX = 'PASSWORDLESS#';

/** Partition key of a login's passwordless items: the lockout's login id, so every alias shares them. */
export function passwordlessPk(login: string): string {
  return `${KEY_PREFIX}${loginKeyId(login)}`;
}

/** Sort keys of the items under {@link passwordlessPk}. */
export const PASSWORDLESS_SK = {
  /** How many messages went out lately; see functions/create-auth-challenge/throttle.ts. */
  throttle: 'THROTTLE',
  /** One issued link or code: its hash, expiry and, once used, when. */
  challenge: (challengeId: string) => `CHALLENGE#${challengeId}`,
  /** The last passwordless sign-in, which post-authentication reads to audit the method. */
  signIn: 'SIGN-IN',
} as const;

/** How long the sign-in marker counts as the method of the sign-in that follows it. */
export const SIGN_IN_MARKER_SECONDS = 60;
