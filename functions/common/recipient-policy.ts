/**
 * The domain policy applied to a message's recipient: the check custom-message and both custom senders
 * make before anything is composed, decrypted or delivered, so that no message of any kind reaches an
 * address outside the allowed domains, nor an account whose address is outside them.
 */
import { checkEmail, type DomainPolicy, type EmailCheck } from './identity.ts';
import type { RecipientVerdict } from './sender.ts';
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

/**
 * A sender channel's `permits`: the event's `email` must pass the policy. An account without an `email`
 * attribute passes, as in custom-message: a text to such an account's phone reaches no address. The SMS
 * channel applies it too, so that an account whose address is outside the list (an administrator forced
 * it, or the list changed) gets no message of any kind in either delivery mode.
 */
export function recipientPermits(policy: DomainPolicy): (kind: MessageKind, attributes: Readonly<Record<string, string>>) => RecipientVerdict {
  return (kind, attributes) => {
    if (attributes.email === undefined) return { allowed: true };
    const check = checkRecipient(kind, attributes.email, policy);
    return check.allowed ? { allowed: true } : { allowed: false, reason: check.reason, ...(check.domain ? { domain: check.domain } : {}) };
  };
}
