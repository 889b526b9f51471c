/**
 * The SMS channel of the custom sender: the recipient is the user's `phone_number` (E.164), the text is
 * the shared template, delivery goes through Twilio. An account whose email is outside the domain policy
 * gets no text either, as custom-message refuses it in the `cognito` delivery mode.
 */
import type { DomainPolicy } from '../common/identity.ts';
import { recipientPermits } from '../common/recipient-policy.ts';
import type { Channel } from '../common/sender.ts';
import { renderSms } from '../common/templates.ts';

const E164 = /^\+[1-9]\d{6,14}$/;

/** An SMS channel that hands each rendered text to `send`, for accounts the domain `policy` admits. */
export function smsChannel(send: (sms: { to: string; body: string }) => Promise<void>, policy: DomainPolicy): Channel<string> {
  return {
    name: 'sms',
    sourcePrefix: 'CustomSMSSender_',
    // Cognito stores phone numbers in E.164; anything else cannot be a real destination.
    recipient: (attributes) => (attributes.phone_number && E164.test(attributes.phone_number) ? attributes.phone_number : undefined),
    render: renderSms,
    deliver: (to, body) => send({ to, body }),
    permits: recipientPermits(policy),
  };
}
