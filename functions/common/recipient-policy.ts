/**
 * The domain policy applied to a message's recipient: the check custom-message and the custom email
 * sender make before anything is composed or delivered, so that no message of any kind reaches an
 * address outside the allowed domains.
 */
import { checkEmail, type DomainPolicy, type EmailCheck } from './identity.ts';
import type { MessageKind } from './templates.ts';

/** Messages that go to an address the user has just asked for: the one path on which a user chooses the recipient. */
export const ADDRESS_CHANGE_KINDS: ReadonlySet<MessageKind> = new Set<MessageKind>(['UpdateUserAttribute', 'VerifyUserAttribute']);

/**
 * Checks the address a message of `kind` goes to. A refusal's message speaks of a change of address for
 * the two attribute kinds and of the account's address otherwise.
 */
export function checkRecipient(kind: MessageKind, email: unknown, policy: DomainPolicy): EmailCheck {
  return checkEmail(email, policy, ADDRESS_CHANGE_KINDS.has(kind) ? 'email-change' : 'message');
}
