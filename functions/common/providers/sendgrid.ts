/**
 * Email delivery through SendGrid's v3 Mail Send API (`POST /v3/mail/send`, answered with 202).
 */
import { post, type HttpPost } from './http.ts';

/** The SendGrid secret's JSON: `{"apiKey": "SG...."}`. */
export interface SendGridCredentials {
  readonly apiKey: string;
}

/** One email, already rendered. */
export interface OutgoingEmail {
  readonly from: { readonly address: string; readonly name: string };
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface SendGridOptions {
  /** API base URL without a trailing slash, e.g. `https://api.sendgrid.com`. */
  readonly baseUrl: string;
  /** Resolves the credentials (cached by the caller). */
  readonly credentials: () => Promise<SendGridCredentials>;
  /** The HTTP client (`httpPost` in production). */
  readonly http: HttpPost;
  /** Deadline for the whole request. */
  readonly timeoutMs: number;
}

/** Parses and checks the secret's JSON. The error never repeats the value. */
export function parseSendGridSecret(value: unknown): SendGridCredentials {
  const apiKey = (value as { apiKey?: unknown } | null)?.apiKey;
  if (typeof value !== 'object' || value === null || typeof apiKey !== 'string' || apiKey === '') {
    throw new TypeError('The SendGrid secret must be JSON with a non-empty "apiKey"');
  }
  return { apiKey };
}

/** A function that sends one email through SendGrid and rejects on any failure. */
export function sendGridEmailSender(options: SendGridOptions): (email: OutgoingEmail) => Promise<void> {
  const url = `${options.baseUrl}/v3/mail/send`;
  return async (email) => {
    const { apiKey } = await options.credentials();
    await post(
      options.http,
      'sendgrid',
      url,
      {
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          personalizations: [{ to: [{ email: email.to }] }],
          from: { email: email.from.address, name: email.from.name },
          subject: email.subject,
          // SendGrid requires text/plain before text/html.
          content: [
            { type: 'text/plain', value: email.text },
            { type: 'text/html', value: email.html },
          ],
          // Tracking would rewrite links and add pixels to security mail; codes must arrive exactly as written.
          tracking_settings: { click_tracking: { enable: false, enable_text: false }, open_tracking: { enable: false } },
        }),
      },
      options.timeoutMs,
    );
  };
}
