/**
 * Every message the system sends, composed in one place.
 *
 * Cognito's custom-message trigger (delivery mode `cognito`) and our own custom senders (delivery mode
 * `custom-senders`) both render from here, so a user hears one voice whichever mode is on.
 *
 * Safety rules enforced here rather than by callers:
 * - user-supplied values (name, email, username, code) are HTML-escaped in HTML and stripped of control
 *   and bidi-override characters everywhere (a name must not be able to inject markup, headers or
 *   reorder the text around a code);
 * - the name is shortened to fit, the code and username never are;
 * - an email stays within Cognito's 20,000-character limit and an SMS within its 140-character limit.
 */
import type { BrandingSettings } from './config.ts';

/** What a message is for. Code kinds carry a one-time code (or temporary password). */
export type MessageKind =
  | 'SignUp'
  | 'ResendCode'
  | 'ForgotPassword'
  | 'UpdateUserAttribute'
  | 'VerifyUserAttribute'
  | 'AdminCreateUser'
  | 'Authentication'
  | 'SignInCode'
  | 'MagicLink'
  | 'AccountTakeOverNotification'
  | 'Welcome'
  | 'Reminder'
  | 'AccountDeleted'
  | 'AccountLocked';

/** Everything a template may use. `code` is a real code or Cognito's `{####}` placeholder, `username` likewise `{username}`. */
export interface MessageContext {
  branding: BrandingSettings;
  recipient: { name?: string; email?: string };
  code?: string;
  username?: string;
  /** The magic link of a MagicLink message, or the password-reset page of an AccountLocked one; the button and text link open it. */
  link?: string;
  /** An AccountLocked message's lock: when it was engaged and when sign-in opens again (epoch ms). */
  lock?: { at: number; until: number };
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

/** Cognito's limits for a custom message. */
export const MAX_EMAIL_CHARS = 20_000;
export const MAX_SMS_CHARS = 140;
/** Longest name shown in an email greeting, in user-perceived characters. */
export const MAX_EMAIL_NAME = 64;
/** Longest name shown in a subject line. */
const MAX_SUBJECT_NAME = 32;
const MAX_APP_NAME = 64;
const MAX_EMAIL_ADDRESS = 254;

/** Cognito's placeholders for the custom-message trigger; it substitutes them after our response. */
export const CODE_PLACEHOLDER = '{####}';
export const USERNAME_PLACEHOLDER = '{username}';

/** Kinds whose message must contain the code. */
export const CODE_KINDS: ReadonlySet<MessageKind> = new Set<MessageKind>([
  'SignUp',
  'ResendCode',
  'ForgotPassword',
  'UpdateUserAttribute',
  'VerifyUserAttribute',
  'AdminCreateUser',
  'Authentication',
  'SignInCode',
]);

const SOURCE_KINDS: Readonly<Record<string, MessageKind>> = {
  SignUp: 'SignUp',
  ResendCode: 'ResendCode',
  ForgotPassword: 'ForgotPassword',
  UpdateUserAttribute: 'UpdateUserAttribute',
  VerifyUserAttribute: 'VerifyUserAttribute',
  AdminCreateUser: 'AdminCreateUser',
  Authentication: 'Authentication',
  AccountTakeOverNotification: 'AccountTakeOverNotification',
};

/**
 * The message kind for a Cognito trigger source (`CustomMessage_*`, `CustomEmailSender_*`, `CustomSMSSender_*`),
 * or `undefined` for a source we do not template (callers log it and leave Cognito's default message).
 */
export function messageKindForSource(triggerSource: string): MessageKind | undefined {
  const match = /^(CustomMessage|CustomEmailSender|CustomSMSSender)_([A-Za-z]+)$/.exec(triggerSource);
  if (!match) return undefined;
  const [, prefix, event] = match as unknown as [string, string, string];
  if (!Object.hasOwn(SOURCE_KINDS, event)) return undefined;
  // Cognito sends account-takeover notices only to the custom email sender.
  if (event === 'AccountTakeOverNotification' && prefix !== 'CustomEmailSender') return undefined;
  return SOURCE_KINDS[event];
}

// ---------------------------------------------------------------------------------------------------------------
// Sanitising user-supplied text

// C0/C1 controls, line/paragraph separators, bidi embeddings/overrides/isolates, zero-width and BOM characters.
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/** Removes characters that could break a header, reorder the text or hide content; collapses whitespace. */
export function cleanText(value: string | undefined): string {
  if (!value) return '';
  // Every cleaned value is shortened afterwards; bounding it first keeps hostile megabyte inputs cheap.
  return value.slice(0, 4_096).replace(UNSAFE_CHARS, ' ').replace(/\s+/g, ' ').trim();
}

// Building a Segmenter loads ICU's break data, about 10 ms of CPU; most messages are never truncated,
// so it is built on first use instead of at every cold start.
let segmenter: Intl.Segmenter | undefined;

/** Shortens to at most `max` user-perceived characters (never splitting an emoji or accent), adding an ellipsis. */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  if (max <= 0) return '';
  // Count in UTF-16 units, which is what the 140/20,000 limits are measured in. Segmenting is lazy and
  // stops at the limit, so a megabyte-long name costs no more than a short one.
  let out = '';
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const { segment } of segmenter.segment(value.slice(0, max + 64))) {
    if (out.length + segment.length > max - 1) break;
    out += segment;
  }
  return out.trimEnd() + '…';
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c]!);
}

function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Message content

/** One message, as plain text blocks; rendering to HTML/text happens once, below. */
interface Content {
  subject: string;
  /** A short preview line shown by mail clients next to the subject. */
  preheader: string;
  paragraphs: string[];
  /** The code or credentials block, shown prominently; values are user-supplied and escaped. */
  highlight?: { label: string; value: string }[];
  /** Shown after the highlight. */
  after?: string[];
  /** A call to action linking to the app, when APP_URL is set. */
  action?: string;
}

interface Parts {
  app: string;
  name: string;
  subjectName: string;
  code: string;
  username: string;
  email: string;
  lockedAt: string;
  lockedUntil: string;
}

/** A time as every reader can place it: `2026-12-04 01:02 UTC`. */
const utc = (ms: number | undefined): string => (ms === undefined || !Number.isFinite(ms) ? '' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`);

function requireField<T>(kind: MessageKind, field: 'code' | 'username' | 'link' | 'lock', value: T | undefined): T {
  if (value === undefined || value === '') throw new TypeError(`A ${kind} message needs a ${field}`);
  return value;
}

function parts(kind: MessageKind, ctx: MessageContext, nameLimit: number): Parts {
  const name = truncate(cleanText(ctx.recipient.name), nameLimit);
  return {
    app: truncate(cleanText(ctx.branding.appName), MAX_APP_NAME) || 'our service',
    name,
    subjectName: truncate(name, MAX_SUBJECT_NAME),
    // The code is never shortened; control characters cannot be part of a code Cognito generates.
    code: CODE_KINDS.has(kind) ? requireField(kind, 'code', ctx.code) : '',
    username: kind === 'AdminCreateUser' ? requireField(kind, 'username', ctx.username) : (ctx.username ?? ''),
    email: truncate(cleanText(ctx.recipient.email), MAX_EMAIL_ADDRESS),
    lockedAt: utc(ctx.lock?.at),
    lockedUntil: utc(ctx.lock?.until),
  };
}

function withName(p: Parts, text: string): string {
  return p.subjectName ? `${p.subjectName}, ${text.charAt(0).toLowerCase()}${text.slice(1)}` : text;
}

function content(kind: MessageKind, p: Parts): Content {
  const codeBlock = (label: string) => [{ label, value: p.code }];
  const ignore = 'If you did not ask for this, you can ignore this email.';
  switch (kind) {
    case 'SignUp':
      return {
        subject: withName(p, `Confirm your email for ${p.app}`),
        preheader: `Your ${p.app} confirmation code is inside.`,
        paragraphs: [`Thanks for signing up for ${p.app}. Enter this code to confirm your email address:`],
        highlight: codeBlock('Confirmation code'),
        after: ['The code expires soon, so use it now.', ignore],
      };
    case 'ResendCode':
      return {
        subject: withName(p, `Your new ${p.app} confirmation code`),
        preheader: `Here is the new confirmation code you asked for.`,
        paragraphs: [`Here is your new code to confirm your email address for ${p.app}:`],
        highlight: codeBlock('Confirmation code'),
        after: ['Any earlier code no longer works.', ignore],
      };
    case 'ForgotPassword':
      return {
        subject: withName(p, `Reset your ${p.app} password`),
        preheader: `Your ${p.app} password reset code is inside.`,
        paragraphs: [`We received a request to reset the password of your ${p.app} account. Enter this code to choose a new password:`],
        highlight: codeBlock('Reset code'),
        after: ['If you did not ask to reset your password, ignore this email: your password stays the same.'],
      };
    case 'UpdateUserAttribute':
      return {
        subject: withName(p, `Confirm your new email address for ${p.app}`),
        preheader: `Confirm the change to your ${p.app} account.`,
        paragraphs: [`You changed the contact details of your ${p.app} account. Enter this code to confirm the change:`],
        highlight: codeBlock('Verification code'),
        after: ['If you did not make this change, sign in and change your password now.'],
      };
    case 'VerifyUserAttribute':
      return {
        subject: withName(p, `Verify your email address for ${p.app}`),
        preheader: `Your ${p.app} verification code is inside.`,
        paragraphs: [`Enter this code to verify your email address for ${p.app}:`],
        highlight: codeBlock('Verification code'),
        after: [ignore],
      };
    case 'AdminCreateUser':
      return {
        subject: withName(p, `Your ${p.app} account is ready`),
        preheader: `Sign in to ${p.app} with the details inside.`,
        paragraphs: [`An account was created for you on ${p.app}. Sign in with these details; you will choose your own password straight away:`],
        highlight: [
          { label: 'Username', value: p.username },
          { label: 'Temporary password', value: p.code },
        ],
        after: ['The temporary password expires after a few days. If you were not expecting this, ignore this email.'],
        action: `Sign in to ${p.app}`,
      };
    case 'Authentication':
      return {
        subject: withName(p, `Your ${p.app} sign-in code`),
        preheader: `Use this code to finish signing in.`,
        paragraphs: [`Enter this code to finish signing in to ${p.app}:`],
        highlight: codeBlock('Sign-in code'),
        after: ['If you are not signing in right now, someone may know your password: change it as soon as you can.'],
      };
    case 'SignInCode':
      return {
        subject: withName(p, `Your ${p.app} sign-in code`),
        preheader: `Use this code to sign in without a password.`,
        paragraphs: [`Enter this code to sign in to ${p.app}:`],
        highlight: codeBlock('Sign-in code'),
        after: ['The code works once, for a few minutes, in the window where you asked for it.', ignore],
      };
    case 'MagicLink':
      return {
        subject: withName(p, `Your ${p.app} sign-in link`),
        preheader: `Open the link to sign in without a password.`,
        paragraphs: [`Open this link to sign in to ${p.app}. It works once, for a few minutes, in the browser where you asked for it.`],
        after: [ignore],
        action: `Sign in to ${p.app}`,
      };
    case 'AccountTakeOverNotification':
      return {
        subject: withName(p, `Unusual sign-in to your ${p.app} account`),
        preheader: `We noticed a sign-in that did not look like you.`,
        paragraphs: [
          `We noticed a sign-in to your ${p.app} account that did not look like you and took steps to protect it.`,
          'If it was you, there is nothing to do. If it was not, change your password now and review your account.',
        ],
        action: `Review your ${p.app} account`,
      };
    case 'Welcome':
      return {
        subject: withName(p, `Welcome to ${p.app}`),
        preheader: `Your ${p.app} account is confirmed.`,
        paragraphs: [`Your email address is confirmed and your ${p.app} account is ready to use.`, 'We are glad to have you with us.'],
        action: `Open ${p.app}`,
      };
    case 'Reminder':
      return {
        subject: withName(p, `Finish setting up your ${p.app} account`),
        preheader: `One step left: confirm your email address.`,
        paragraphs: [
          `You started signing up for ${p.app} but have not confirmed your email address yet.`,
          'Sign in or ask for a new confirmation code to finish. Unconfirmed sign-ups are removed after a while.',
        ],
        after: ['If you did not sign up, ignore this email and the sign-up will be removed.'],
        action: `Finish signing up for ${p.app}`,
      };
    case 'AccountDeleted':
      return {
        subject: withName(p, `Your unfinished ${p.app} sign-up was removed`),
        preheader: `We removed a sign-up that was never confirmed.`,
        paragraphs: [
          `A sign-up for ${p.app} with this email address was never confirmed, so we removed it and the details it held.`,
          'You are welcome to sign up again at any time.',
        ],
        action: `Sign up for ${p.app}`,
      };
    case 'AccountLocked':
      return {
        subject: withName(p, `Sign-in to your ${p.app} account was paused`),
        preheader: `Several wrong passwords were tried; your password was not changed.`,
        paragraphs: [`At ${p.lockedAt}, after several sign-in attempts with a wrong password, we paused sign-in to your ${p.app} account until ${p.lockedUntil}.`],
        after: [
          'Your password was not changed.',
          'If these attempts were not yours, someone may be guessing your password. Resetting it (“Forgot your password?” when you sign in) ends the pause at once.',
        ],
        action: 'Reset your password',
      };
  }
}

function greeting(p: Parts): string {
  return p.name ? `Hi ${p.name},` : 'Hi,';
}

function renderText(c: Content, p: Parts, url: string | undefined): string {
  const lines = [greeting(p), '', ...c.paragraphs.flatMap((x) => [x, ''])];
  for (const h of c.highlight ?? []) lines.push(`${h.label}: ${h.value}`);
  if (c.highlight) lines.push('');
  for (const x of c.after ?? []) lines.push(x, '');
  if (c.action && url) lines.push(`${c.action}: ${url}`, '');
  lines.push(`— The ${p.app} team`);
  if (p.email) lines.push('', `This message was sent to ${p.email}.`);
  return lines.join('\n');
}

function renderHtml(c: Content, p: Parts, url: string | undefined): string {
  const e = escapeHtml;
  const para = (x: string) => `<p style="margin:0 0 16px">${e(x)}</p>`;
  const highlight = (c.highlight ?? [])
    .map(
      (h) =>
        `<p style="margin:0 0 16px"><span style="display:block;font-size:13px;color:#555">${e(h.label)}</span>` +
        `<strong style="display:inline-block;font-family:Menlo,Consolas,monospace;font-size:24px;letter-spacing:2px;padding:8px 12px;background:#f2f4f7;border-radius:4px">${e(h.value)}</strong></p>`,
    )
    .join('');
  const action =
    c.action && url
      ? `<p style="margin:24px 0"><a href="${e(url)}" style="background:#1a56db;color:#fff;padding:12px 20px;border-radius:4px;text-decoration:none;display:inline-block">${e(c.action)}</a></p>`
      : '';
  const footer = p.email ? `<p style="margin:24px 0 0;font-size:12px;color:#777">This message was sent to ${e(p.email)}.</p>` : '';
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${e(c.subject)}</title></head>` +
    `<body style="margin:0;padding:0;background:#f6f7f9">` +
    `<div style="display:none;max-height:0;overflow:hidden">${e(c.preheader)}</div>` +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center" style="padding:24px">` +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#fff;border-radius:8px">` +
    `<tr><td style="padding:32px;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#111">` +
    `<p style="margin:0 0 24px;font-size:20px;font-weight:600">${e(p.app)}</p>` +
    para(greeting(p)) +
    c.paragraphs.map(para).join('') +
    highlight +
    (c.after ?? []).map(para).join('') +
    action +
    para(`— The ${p.app} team`) +
    footer +
    `</td></tr></table></td></tr></table></body></html>`
  );
}

/**
 * Renders an email. Throws a `TypeError` when a code kind has no code, or AdminCreateUser no username:
 * that is a programming error, and sending a code email without its code would be worse than failing.
 */
export function renderEmail(kind: MessageKind, ctx: MessageContext): RenderedEmail {
  if (kind === 'AccountLocked') requireField(kind, 'lock', ctx.lock);
  const p = parts(kind, ctx, MAX_EMAIL_NAME);
  const c = content(kind, p);
  // A magic link's button opens the link itself, never the app's front page.
  const url = kind === 'MagicLink' ? safeUrl(requireField(kind, 'link', ctx.link)) : safeUrl(kind === 'AccountLocked' ? ctx.link : ctx.branding.appUrl);
  if (kind === 'MagicLink' && !url) throw new TypeError('A MagicLink message needs an http(s) link');
  const email = { subject: c.subject, html: renderHtml(c, p, url), text: renderText(c, p, url) };
  // Unreachable with the limits above (name, app and address are all capped), kept as a guard for future edits.
  if (email.html.length > MAX_EMAIL_CHARS || email.text.length > MAX_EMAIL_CHARS) {
    throw new RangeError(`The ${kind} email exceeds ${MAX_EMAIL_CHARS} characters`);
  }
  return email;
}

function smsBody(kind: MessageKind, p: Parts): string {
  const hi = p.name ? `Hi ${p.name}, ` : '';
  switch (kind) {
    case 'SignUp':
    case 'ResendCode':
      return `${hi}your ${p.app} confirmation code is ${p.code}`;
    case 'ForgotPassword':
      return `${hi}your ${p.app} password reset code is ${p.code}. Didn't ask? Ignore this.`;
    case 'UpdateUserAttribute':
    case 'VerifyUserAttribute':
      return `${hi}your ${p.app} verification code is ${p.code}`;
    case 'AdminCreateUser':
      return `${hi}your ${p.app} username is ${p.username} and temporary password ${p.code}`;
    case 'Authentication':
    case 'SignInCode':
      return `${hi}your ${p.app} sign-in code is ${p.code}`;
    case 'MagicLink':
      return `${hi}open the link in your email to sign in to ${p.app}.`;
    case 'AccountTakeOverNotification':
      return `${hi}we blocked an unusual sign-in to your ${p.app} account. If it wasn't you, change your password.`;
    case 'Welcome':
      return `${hi}welcome to ${p.app}! Your account is ready.`;
    case 'Reminder':
      return `${hi}finish signing up for ${p.app} by confirming your account.`;
    case 'AccountDeleted':
      return `${hi}your unconfirmed ${p.app} sign-up was removed. You can sign up again any time.`;
    case 'AccountLocked':
      return `${hi}sign-in to your ${p.app} account was paused after wrong passwords. Your password was not changed.`;
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Renders an SMS of at most 140 characters. The name shrinks first, then the app name; the code and the
 * username are never cut. Only a code/username pair longer than the limit itself can exceed it, in which
 * case the bare essentials are sent rather than a message without its code.
 */
export function renderSms(kind: MessageKind, ctx: MessageContext): string {
  const full = parts(kind, ctx, MAX_SMS_CHARS);
  for (const nameLimit of [full.name.length, 24, 12, 0]) {
    const text = capitalise(smsBody(kind, { ...full, name: truncate(full.name, nameLimit) }));
    if (text.length <= MAX_SMS_CHARS) return text;
  }
  for (const appLimit of [24, 12]) {
    const text = capitalise(smsBody(kind, { ...full, name: '', app: truncate(full.app, appLimit) }));
    if (text.length <= MAX_SMS_CHARS) return text;
  }
  if (kind === 'AdminCreateUser') return `Username ${full.username} password ${full.code}`;
  return full.code ? `Code ${full.code}` : capitalise(smsBody(kind, { ...full, name: '', app: truncate(full.app, 8) }));
}
