/**
 * SMS delivery through Twilio's Programmable Messaging REST API
 * (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, answered with 201).
 */
import { post, type HttpPost } from './http.ts';

/** The Twilio secret's JSON: `accountSid`, `authToken`, and either `fromNumber` or `messagingServiceSid`. */
export interface TwilioCredentials {
  readonly accountSid: string;
  readonly authToken: string;
  readonly fromNumber?: string;
  readonly messagingServiceSid?: string;
}

export interface TwilioOptions {
  /** API base URL without a trailing slash, e.g. `https://api.twilio.com`. */
  readonly baseUrl: string;
  readonly credentials: () => Promise<TwilioCredentials>;
  /** The HTTP client (`httpPost` in production). */
  readonly http: HttpPost;
  readonly timeoutMs: number;
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** Parses and checks the secret's JSON. The error names fields, never values. */
export function parseTwilioSecret(value: unknown): TwilioCredentials {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (!nonEmpty(v.accountSid) || !/^AC[0-9a-fA-F]{32}$/.test(v.accountSid) || !nonEmpty(v.authToken)) {
    throw new TypeError('The Twilio secret must be JSON with "accountSid" (AC + 32 hex digits) and "authToken"');
  }
  if (nonEmpty(v.messagingServiceSid)) return { accountSid: v.accountSid, authToken: v.authToken, messagingServiceSid: v.messagingServiceSid };
  if (nonEmpty(v.fromNumber)) return { accountSid: v.accountSid, authToken: v.authToken, fromNumber: v.fromNumber };
  throw new TypeError('The Twilio secret must have "fromNumber" or "messagingServiceSid"');
}

/** Twilio's error body is `{"code": 21211, "message": "...", ...}`; the numeric code is safe to log, the message may echo the number. */
function twilioCode(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code;
    return typeof code === 'number' ? String(code) : undefined;
  } catch {
    return undefined;
  }
}

/** A function that sends one SMS through Twilio and rejects on any failure. */
export function twilioSmsSender(options: TwilioOptions): (sms: { to: string; body: string }) => Promise<void> {
  return async ({ to, body }) => {
    const creds = await options.credentials();
    const form = new URLSearchParams({ To: to, Body: body });
    if (creds.messagingServiceSid) form.set('MessagingServiceSid', creds.messagingServiceSid);
    else form.set('From', creds.fromNumber!);
    await post(
      options.http,
      'twilio',
      `${options.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(creds.accountSid)}/Messages.json`,
      {
        headers: {
          authorization: `Basic ${Buffer.from(`${creds.accountSid}:${creds.authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
      },
      options.timeoutMs,
      twilioCode,
    );
  };
}
