/**
 * The naive baseline's Twilio delivery: the same exported interface as
 * functions/common/providers/twilio.ts, written the way a first implementation would, with the
 * vendor's SDK (the `twilio` package, the library a first implementation reaches for). The benchmark's naive build
 * substitutes this module for ours (bench/lib/builds.ts), so the senders' baseline carries the
 * library weight our direct REST call avoids. It is never shipped.
 */
import twilio from 'twilio';
import { ProviderError } from '../../functions/common/providers/http.ts';
import type { TwilioOptions } from '../../functions/common/providers/twilio.ts';

// Parsing the secret is not delivery; it stays the shipped code, so only the transport differs.
export { parseTwilioSecret } from '../../functions/common/providers/twilio.ts';
export type { TwilioCredentials, TwilioOptions } from '../../functions/common/providers/twilio.ts';

/** Twilio's RestException has the HTTP `status` and Twilio's numeric `code`. */
function providerError(error: unknown): ProviderError {
  const e = error as { status?: unknown; code?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : undefined;
  return new ProviderError('twilio', status, typeof e?.code === 'number' ? String(e.code) : undefined, { cause: error });
}

/** A function that sends one SMS through the `twilio` client and rejects with a ProviderError on any failure. */
export function twilioSmsSender(options: TwilioOptions): (sms: { to: string; body: string }) => Promise<void> {
  let client: twilio.Twilio | undefined;
  let clientKey = '';
  return async ({ to, body }) => {
    const creds = await options.credentials();
    // A rotated secret needs a new client; the same one is reused otherwise (keep-alive).
    const key = `${creds.accountSid}:${creds.authToken}`;
    if (!client || key !== clientKey) {
      client = twilio(creds.accountSid, creds.authToken, { timeout: options.timeoutMs, keepAlive: true, autoRetry: false });
      client.api.baseUrl = options.baseUrl;
      clientKey = key;
    }
    try {
      await client.messages.create({
        to,
        body,
        ...(creds.messagingServiceSid ? { messagingServiceSid: creds.messagingServiceSid } : { from: creds.fromNumber! }),
      });
    } catch (error) {
      throw providerError(error);
    }
  };
}
