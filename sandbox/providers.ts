/**
 * SendGrid and Twilio stand-ins, and the message stores the sandbox exposes over HTTP.
 *
 * The sender functions reach the stand-ins through their configurable API base URLs. Each stand-in
 * checks the credentials the function read from Secrets Manager, as the real APIs do, and records
 * what was sent. `GET /stores/{sendgrid,twilio,ses}` answers a JSON array of the messages sent so far,
 * oldest first, each with at least `to`, `subject` (email), `text` and `at`. Codes appear in plain text
 * there: the sandbox is a development tool.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { bodyServer, delay, listen, sendJson, type Listening } from './lib/http.ts';

/** One delivered message, as the stores report it. */
export interface StoredMessage {
  readonly provider: 'sendgrid' | 'twilio' | 'ses';
  readonly to: string;
  readonly recipients: readonly string[];
  readonly from: string;
  readonly subject?: string;
  readonly text: string;
  readonly html?: string;
  /** ISO time the stand-in accepted the message. */
  readonly at: string;
  readonly id: string;
}

export interface ProviderCredentials {
  readonly sendgrid: { apiKey: string };
  readonly twilio: { accountSid: string; authToken: string; fromNumber?: string; messagingServiceSid?: string };
}

/** A forced answer for the next request to a stand-in, for fault tests. */
export interface ProviderFault {
  readonly status?: number;
  readonly delayMs?: number;
}

/** Text of an HTML body, for stores whose message only has HTML. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(head|script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/(p|div|h\d|li|tr|table)>/gi, '\n')
    // Other tags separate words too (a label in one element, the code in the next).
    .replace(/<[^>]+>/g, ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/^[ \t]+/gm, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** One email as aws-ses-v2-local stores it. */
export interface SesStoreEmail {
  messageId: string;
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { html?: string; text?: string };
  at: number;
}

/** Every email aws-ses-v2-local at `sesUrl` has accepted, oldest first, as it stores them (`GET /store`). */
export async function readSesStore(sesUrl: string): Promise<SesStoreEmail[]> {
  const res = await fetch(`${sesUrl}/store`);
  return ((await res.json()) as { emails: SesStoreEmail[] }).emails;
}

export class Providers {
  readonly sendgrid: StoredMessage[] = [];
  readonly twilio: StoredMessage[] = [];
  readonly faults: { sendgrid: ProviderFault[]; twilio: ProviderFault[] } = { sendgrid: [], twilio: [] };
  private listening?: Listening;

  constructor(
    private credentials: ProviderCredentials,
    /** Where aws-ses-v2-local serves its store (`GET /store`). */
    private readonly sesUrl: string,
  ) {}

  get url(): string {
    return this.listening!.url;
  }

  setCredentials(credentials: ProviderCredentials): void {
    this.credentials = credentials;
  }

  /** Mail accepted by the local SES, normalised like the other stores. */
  async ses(): Promise<StoredMessage[]> {
    const emails = await readSesStore(this.sesUrl);
    return emails.map((e) => ({
      provider: 'ses' as const,
      to: e.destination.to[0] ?? '',
      recipients: e.destination.to,
      from: e.from,
      subject: e.subject,
      text: e.body.text ?? htmlToText(e.body.html ?? ''),
      ...(e.body.html ? { html: e.body.html } : {}),
      at: new Date(e.at * 1000).toISOString(),
      id: e.messageId,
    }));
  }

  private async fault(kind: 'sendgrid' | 'twilio'): Promise<number | undefined> {
    const f = this.faults[kind].shift();
    if (!f) return undefined;
    if (f.delayMs) await delay(f.delayMs);
    return f.status;
  }

  private sendgridSend(req: IncomingMessage, body: Buffer): { status: number; payload: unknown } {
    if (req.headers.authorization !== `Bearer ${this.credentials.sendgrid.apiKey}`) {
      return { status: 401, payload: { errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }] } };
    }
    let mail: {
      personalizations?: Array<{ to?: Array<{ email: string }>; subject?: string }>;
      from?: { email: string; name?: string };
      subject?: string;
      content?: Array<{ type: string; value: string }>;
    };
    try {
      mail = JSON.parse(body.toString('utf8'));
    } catch {
      return { status: 400, payload: { errors: [{ message: 'Invalid JSON' }] } };
    }
    const recipients = (mail.personalizations ?? []).flatMap((p) => (p.to ?? []).map((t) => t.email));
    const subject = mail.personalizations?.[0]?.subject ?? mail.subject;
    const text = mail.content?.find((c) => c.type === 'text/plain')?.value;
    const html = mail.content?.find((c) => c.type === 'text/html')?.value;
    const errors: string[] = [];
    if (recipients.length === 0) errors.push('The to field is required');
    if (!mail.from?.email) errors.push('The from object must be provided for every email send');
    if (!subject) errors.push('The subject is required');
    if (!text && !html) errors.push('The content value must be a string at least one character in length');
    if (errors.length) return { status: 400, payload: { errors: errors.map((message) => ({ message })) } };
    this.sendgrid.push({
      provider: 'sendgrid',
      to: recipients[0]!,
      recipients,
      from: mail.from!.email,
      subject: subject!,
      text: text ?? htmlToText(html!),
      ...(html ? { html } : {}),
      at: new Date().toISOString(),
      id: randomBytes(11).toString('base64url'),
    });
    return { status: 202, payload: '' };
  }

  private twilioSend(req: IncomingMessage, accountSid: string, body: Buffer): { status: number; payload: unknown } {
    const creds = this.credentials.twilio;
    const expected = `Basic ${Buffer.from(`${creds.accountSid}:${creds.authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected || accountSid !== creds.accountSid) {
      return { status: 401, payload: { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 } };
    }
    const form = new URLSearchParams(body.toString('utf8'));
    const to = form.get('To');
    const text = form.get('Body');
    const from = form.get('From');
    const service = form.get('MessagingServiceSid');
    if (!to || !/^\+[1-9]\d{6,14}$/.test(to)) return { status: 400, payload: { code: 21211, message: `The 'To' number ${to ?? ''} is not a valid phone number.`, status: 400 } };
    if (!text) return { status: 400, payload: { code: 21602, message: 'Message body is required.', status: 400 } };
    if (!(from && from === creds.fromNumber) && !(service && service === creds.messagingServiceSid)) {
      return { status: 400, payload: { code: 21606, message: `The From phone number ${from ?? ''} is not a valid, SMS-capable inbound phone number or short code for your account.`, status: 400 } };
    }
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const at = new Date();
    this.twilio.push({ provider: 'twilio', to, recipients: [to], from: from ?? service!, text, at: at.toISOString(), id: sid });
    return {
      status: 201,
      payload: { sid, account_sid: accountSid, to, from, body: text, status: 'queued', messaging_service_sid: service, date_created: at.toUTCString(), num_segments: '1', direction: 'outbound-api', api_version: '2010-04-01', uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json` },
    };
  }

  async start(port = 0): Promise<void> {
    this.listening = await listen(
      bodyServer(async (req, res, body) => {
        const url = new URL(req.url ?? '/', 'http://sandbox');
        if (req.method === 'GET' && url.pathname === '/stores/sendgrid') return sendJson(res, 200, this.sendgrid);
        if (req.method === 'GET' && url.pathname === '/stores/twilio') return sendJson(res, 200, this.twilio);
        if (req.method === 'GET' && url.pathname === '/stores/ses') return sendJson(res, 200, await this.ses());
        if (req.method === 'POST' && url.pathname === '/v3/mail/send') {
          const forced = await this.fault('sendgrid');
          if (forced) return sendJson(res, forced, { errors: [{ message: 'Injected fault' }] });
          const { status, payload } = this.sendgridSend(req, body);
          if (status === 202) {
            res.writeHead(202, { 'x-message-id': this.sendgrid.at(-1)!.id, 'content-length': 0 });
            return res.end();
          }
          return sendJson(res, status, payload);
        }
        const twilio = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
        if (req.method === 'POST' && twilio) {
          const forced = await this.fault('twilio');
          if (forced) return sendJson(res, forced, { code: 20500, message: 'Injected fault', status: forced });
          const { status, payload } = this.twilioSend(req, decodeURIComponent(twilio[1]!), body);
          return sendJson(res, status, payload);
        }
        sendJson(res, 404, { message: `No stand-in serves ${req.method} ${url.pathname}` });
      }),
      port,
    );
  }

  async stop(): Promise<void> {
    await this.listening?.close();
  }
}
