/**
 * Sends one rendered email through Amazon SES (v2 API, `SendEmail` with Simple content).
 *
 * The sandbox points the same client at a local SES with `AWS_ENDPOINT_URL_SESV2`, so this is the code
 * path both environments run. Errors propagate: each caller decides what a failed send means for it.
 */
import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { SenderIdentity } from './config.ts';
import type { RenderedEmail } from './templates.ts';

// RFC 5322 "specials": a display name containing any of them must be a quoted string.
const SPECIALS = /[()<>[\]:;@\\,."]/;
// Bytes of UTF-8 per encoded word: 45 bytes -> 60 base64 chars, + 12 for `=?UTF-8?B?` and `?=`, within the 75 allowed.
const ENCODED_WORD_BYTES = 45;

function encodedWords(name: string): string {
  const words: string[] = [];
  let chunk = '';
  // Split on code points so no UTF-8 sequence is cut across two encoded words.
  for (const ch of name) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > ENCODED_WORD_BYTES) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(' ');
}

/**
 * The `From` header value `Name <address>`: ASCII names quoted when they hold specials, other names as
 * RFC 2047 encoded words (which SES requires for non-ASCII display names). Control characters are
 * dropped so a configured name can never start a new header.
 */
export function formatFromAddress(from: SenderIdentity): string {
  // eslint-disable-next-line no-control-regex
  const name = from.name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/\s+/g, ' ').trim();
  if (!name) return from.address;
  if (/^[\x20-\x7e]*$/.test(name)) {
    const display = SPECIALS.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : name;
    return `${display} <${from.address}>`;
  }
  return `${encodedWords(name)} <${from.address}>`;
}

/** Sends `email` to `to` from `from`. Rejects on any SES error (throttling, rejection, timeout) or when `signal` aborts. */
export async function sendEmail(ses: Pick<SESv2Client, 'send'>, from: SenderIdentity, to: string, email: RenderedEmail, signal?: AbortSignal): Promise<void> {
  if (!to || /[\s<>,;]/.test(to) || !to.includes('@')) {
    throw new TypeError('The recipient is not a single email address');
  }
  await ses.send(
    new SendEmailCommand({
      FromEmailAddress: formatFromAddress(from),
      Destination: { ToAddresses: [to] },
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: {
            Html: { Data: email.html, Charset: 'UTF-8' },
            Text: { Data: email.text, Charset: 'UTF-8' },
          },
        },
      },
    }),
    signal ? { abortSignal: signal } : {},
  );
}
