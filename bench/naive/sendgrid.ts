/**
 * The naive baseline's SendGrid delivery: the same exported interface as
 * functions/common/providers/sendgrid.ts, written the way a first implementation would, with the
 * vendor's SDK (`@sendgrid/mail`, the library a first implementation reaches for). The benchmark's naive build substitutes
 * this module for ours (bench/lib/builds.ts), so the senders' baseline carries the library weight our
 * direct REST call avoids. It is never shipped.
 */
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { ProviderError } from '../../functions/common/providers/http.ts';
import type { OutgoingEmail, SendGridOptions } from '../../functions/common/providers/sendgrid.ts';

// Parsing the secret is not delivery; it stays the shipped code, so only the transport differs.
export { parseSendGridSecret } from '../../functions/common/providers/sendgrid.ts';
export type { OutgoingEmail, SendGridCredentials, SendGridOptions } from '../../functions/common/providers/sendgrid.ts';

/** `@sendgrid/helpers`' ResponseError carries the HTTP status as `code`. */
function providerError(error: unknown): ProviderError {
  const status = (error as { code?: unknown; response?: unknown } | null)?.code;
  const answered = typeof status === 'number' && (error as { response?: unknown }).response !== undefined;
  return new ProviderError('sendgrid', answered ? status : undefined, undefined, { cause: error });
}

/** A function that sends one email through `@sendgrid/mail` and rejects with a ProviderError on any failure. */
export function sendGridEmailSender(options: SendGridOptions): (email: OutgoingEmail) => Promise<void> {
  const client = new Client();
  const mail = new MailService();
  mail.setClient(client);
  mail.setTimeout(options.timeoutMs);
  return async (email) => {
    const { apiKey } = await options.credentials();
    // setApiKey resets the base URL to the region's host, so the configured one is set after it.
    client.setApiKey(apiKey);
    client.setDefaultRequest('baseUrl', options.baseUrl);
    try {
      await mail.send({
        to: email.to,
        from: { email: email.from.address, name: email.from.name },
        subject: email.subject,
        text: email.text,
        html: email.html,
        trackingSettings: { clickTracking: { enable: false, enableText: false }, openTracking: { enable: false } },
      });
    } catch (error) {
      throw providerError(error);
    }
  };
}
