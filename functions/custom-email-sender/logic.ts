/**
 * The email channel of the custom sender: the recipient is the user's `email`, which must pass the
 * domain policy, the message is the shared template, delivery goes through SendGrid.
 */
import type { SenderIdentity } from '../common/config.ts';
import type { DomainPolicy } from '../common/identity.ts';
import { recipientPermits } from '../common/recipient-policy.ts';
import type { Channel } from '../common/sender.ts';
import { renderEmail, type RenderedEmail } from '../common/templates.ts';
import type { OutgoingEmail } from '../common/providers/sendgrid.ts';

/**
 * An email channel that hands each rendered message to `send`, and never to an address outside `policy`
 * (on `UpdateUserAttribute` and `VerifyUserAttribute`, the event's `email` is the new address asked for).
 */
export function emailChannel(from: SenderIdentity, send: (email: OutgoingEmail) => Promise<void>, policy: DomainPolicy): Channel<RenderedEmail> {
  return {
    name: 'email',
    sourcePrefix: 'CustomEmailSender_',
    recipient: (attributes) => attributes.email || undefined,
    render: renderEmail,
    deliver: (to, email) => send({ from, to, ...email }),
    permits: recipientPermits(policy),
  };
}
