/**
 * The table keys of passwordless sign-in for a typed login: its partition (functions/common/table.ts)
 * under the lockout's login key, so every alias shares them. Apart from ./passwordless.ts so that
 * define-auth-challenge, which reads only the event, bundles no DynamoDB client. See ./passwordless.ts.
 */
import { loginKeyId } from './lockout.ts';
import { passwordlessPartition } from './table.ts';

export { PASSWORDLESS_SK } from './table.ts';

/** Partition key of a login's passwordless items: the lockout's login id, so every alias shares them. */
export function passwordlessPk(login: string): string {
  return passwordlessPartition(loginKeyId(login));
}

/** How long the sign-in marker counts as the method of the sign-in that follows it. */
export const SIGN_IN_MARKER_SECONDS = 60;
