/**
 * Email address parsing and the domain rule, which every path into the pool applies: sign-up (all three
 * sources), a change of address, every message sent to an address, migration and token issue.
 *
 * The rule is deliberately strict, because a loose parser is how allowlists are bypassed:
 * - exactly one address in the plain `local@domain` form: no quoted local parts, comments, display
 *   names, IP literals, second `@`, whitespace or control characters;
 * - ASCII only. Internationalised domains are accepted in their `xn--` form. Unicode anywhere is refused,
 *   which closes the whole class of look-alike domains (`gmаil.com` with a Cyrillic `а`, full-width
 *   letters that IDNA would map onto `gmail.com`) instead of chasing them one by one;
 * - RFC 5321 lengths: local part ≤ 64, domain ≤ 253 (labels ≤ 63), address ≤ 254;
 * - the domain is normalised (trimmed, lower-cased, one trailing dot dropped) and compared with each
 *   allowed domain as a whole, so `gmail.com.evil.com` and `evil-gmail.com` never match `gmail.com`.
 *   Subdomains match only when the policy allows them, and then only at a label boundary.
 */
import { ConfigError, ENV, readDomainPolicy, type DomainPolicySettings } from './config.ts';

/** Why an address was refused; stable values for logs and tests. */
export type AddressProblem =
  | 'missing'
  | 'too-long'
  | 'control-character'
  | 'whitespace'
  | 'non-ascii'
  | 'at-sign'
  | 'local-part'
  | 'domain';

/** A well-formed address, split and normalised. */
export interface ParsedAddress {
  /** The local part as typed (case is preserved: some mail systems treat it as significant). */
  readonly local: string;
  /** The normalised domain: lower case, no trailing dot. */
  readonly domain: string;
  /** `local@domain` with the normalised domain. */
  readonly address: string;
}

export type ParseResult = { readonly ok: true; readonly value: ParsedAddress } | { readonly ok: false; readonly problem: AddressProblem };

export const MAX_ADDRESS_LENGTH = 254;
/**
 * The longest input looked at: Cognito caps an attribute value at 2,048 characters. Anything longer is
 * refused before a regular expression sees it, so no input can make the parser's work grow past that.
 */
export const MAX_INPUT_LENGTH = 2_048;
const MAX_LOCAL_LENGTH = 64;
const MAX_DOMAIN_LENGTH = 253;

// RFC 5322 dot-atom: atext runs separated by single dots, no leading or trailing dot.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
// One LDH label: letters, digits, inner hyphens, 1-63 characters.
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Lower-cases a domain and drops one trailing dot (the DNS root), after trimming spaces. */
export function normaliseDomain(domain: string): string {
  const lower = domain.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Whether `domain` (already normalised) is a syntactically valid ASCII host name with at least two labels. */
export function isValidDomain(domain: string): boolean {
  if (domain.length === 0 || domain.length > MAX_DOMAIN_LENGTH) return false;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return false;
  // A top-level domain is never all digits; this also refuses dotted IPv4 addresses.
  return !/^\d+$/.test(labels[labels.length - 1]!);
}

/**
 * `value` without leading and trailing ASCII spaces, in one pass. A regular expression such as `/ +$/`
 * retries from every space of a long run and takes quadratic time (100,000 spaces took 9.7 s).
 */
function trimSpaces(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value.charCodeAt(start) === 0x20) start++;
  while (end > start && value.charCodeAt(end - 1) === 0x20) end--;
  return value.slice(start, end);
}

/**
 * Parses `input` as exactly one plain email address. Never throws, whatever the input type, and runs in
 * time linear in the input: the length is checked before any regular expression runs.
 */
export function parseEmailAddress(input: unknown): ParseResult {
  if (typeof input !== 'string' || input.trim() === '') return { ok: false, problem: 'missing' };
  if (input.length > MAX_INPUT_LENGTH) return { ok: false, problem: 'too-long' };
  // Checked before trimming: a trailing newline is an injection attempt, not a typo.
  if (CONTROL.test(input)) return { ok: false, problem: 'control-character' };
  const value = trimSpaces(input);
  if (value.length > MAX_ADDRESS_LENGTH) return { ok: false, problem: 'too-long' };
  if (/\s/.test(value)) return { ok: false, problem: 'whitespace' };
  if (/[^\x21-\x7e]/.test(value)) return { ok: false, problem: 'non-ascii' };
  const at = value.indexOf('@');
  if (at < 0 || at !== value.lastIndexOf('@')) return { ok: false, problem: 'at-sign' };
  const local = value.slice(0, at);
  if (local.length === 0 || local.length > MAX_LOCAL_LENGTH || !DOT_ATOM.test(local)) return { ok: false, problem: 'local-part' };
  const domain = normaliseDomain(value.slice(at + 1));
  if (!isValidDomain(domain)) return { ok: false, problem: 'domain' };
  return { ok: true, value: { local, domain, address: `${local}@${domain}` } };
}

/** The domain rule, validated once at cold start. */
export interface DomainPolicy {
  /** Normalised, valid, de-duplicated domains. */
  readonly allowedDomains: readonly string[];
  readonly allowSubdomains: boolean;
}

/** Validates configured domains so that a typo (`*.gmail.com`, `@gmail.com`, `gmail`) fails the cold start, not a user's sign-up. */
export function createDomainPolicy(settings: DomainPolicySettings, variable = 'ALLOWED_EMAIL_DOMAINS'): DomainPolicy {
  const domains = settings.allowedDomains.map(normaliseDomain);
  const bad = domains.filter((d) => !isValidDomain(d));
  if (bad.length > 0) {
    throw new ConfigError(`Environment variable ${variable} holds invalid domains: ${bad.map((d) => JSON.stringify(d)).join(', ')} (use ASCII/xn-- host names such as gmail.com)`);
  }
  if (domains.length === 0) throw new ConfigError(`Environment variable ${variable} must list at least one domain`);
  return { allowedDomains: [...new Set(domains)], allowSubdomains: settings.allowSubdomains };
}

/** The policy from `ALLOWED_EMAIL_DOMAINS` and `ALLOW_SUBDOMAINS`, validated: what each function that applies it builds once, at cold start. */
export function readDomainPolicyFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): DomainPolicy {
  return createDomainPolicy(readDomainPolicy(env), ENV.allowedEmailDomains);
}

/** Whether a normalised, valid domain is allowed: exactly one of the list, or a subdomain of one when allowed. */
export function isDomainAllowed(domain: string, policy: DomainPolicy): boolean {
  return policy.allowedDomains.some((allowed) => domain === allowed || (policy.allowSubdomains && domain.endsWith(`.${allowed}`)));
}

/** The outcome of checking an email against the policy. */
export type EmailCheck =
  | { readonly allowed: true; readonly address: ParsedAddress }
  | { readonly allowed: false; readonly reason: AddressProblem | 'domain-not-allowed'; readonly message: string; readonly domain?: string };

/**
 * Where an address meets the policy, which decides the words of a refusal. The rule itself is the same
 * everywhere: one parser, one domain match.
 */
export type EmailContext =
  /** Pre sign-up: self-service, admin-created and federated sign-ups. */
  | 'sign-up'
  /** Custom message: a new address for an existing account (UpdateUserAttribute, VerifyUserAttribute). */
  | 'email-change'
  /** Custom message: any other message to the account's address. */
  | 'message'
  /** Pre token generation: tokens for an account. */
  | 'sign-in';

/** Messages shown to the person signing up. Cognito wraps them as `PreSignUp failed with error <message>.`, hence no final period. */
export const EMAIL_MESSAGES = {
  missing: 'An email address is required to sign up',
  malformed: 'Enter one valid email address, such as name@example.com, without spaces or special characters',
  tooLong: `That email address is too long (at most ${MAX_ADDRESS_LENGTH} characters)`,
} as const;

/** What each context says, with `{domains}` standing for the list (or the generic form when the list is long). */
const CONTEXT_MESSAGES: Readonly<Record<EmailContext, { readonly listed: string; readonly unlisted: string; readonly missing: string; readonly malformed: string; readonly tooLong: string }>> = {
  'sign-up': {
    listed: 'Sign-up is open only to email addresses at {domains}',
    unlisted: 'Sign-up is not open to email addresses at this domain',
    missing: EMAIL_MESSAGES.missing,
    malformed: EMAIL_MESSAGES.malformed,
    tooLong: EMAIL_MESSAGES.tooLong,
  },
  'email-change': {
    listed: 'Your email address can only be changed to one at {domains}',
    unlisted: 'Your email address cannot be changed to one at this domain',
    missing: 'An email address is required',
    malformed: EMAIL_MESSAGES.malformed,
    tooLong: EMAIL_MESSAGES.tooLong,
  },
  message: {
    listed: 'Messages can only be sent to email addresses at {domains}',
    unlisted: 'Messages cannot be sent to email addresses at this domain',
    missing: 'This account has no email address to send the message to',
    malformed: 'This account has no valid email address to send the message to',
    tooLong: 'This account has no valid email address to send the message to',
  },
  'sign-in': {
    listed: 'Sign-in is open only to email addresses at {domains}',
    unlisted: 'Sign-in is not open to email addresses at this domain',
    missing: 'Sign-in needs an account with an email address',
    malformed: 'Sign-in needs an account with a valid email address',
    tooLong: 'Sign-in needs an account with a valid email address',
  },
};

const MAX_DOMAINS_IN_MESSAGE = 5;

function notAllowedMessage(policy: DomainPolicy, context: EmailContext): string {
  const list = policy.allowedDomains;
  const words = CONTEXT_MESSAGES[context];
  if (list.length > MAX_DOMAINS_IN_MESSAGE) return words.unlisted;
  const shown = list.length === 1 ? list[0]! : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]!}`;
  return words.listed.replace('{domains}', policy.allowSubdomains ? `(or under) ${shown}` : shown);
}

/**
 * Checks an email against the policy: well-formed first, then the domain rule. The one check behind
 * every path into the pool; `context` only chooses the words of the refusal.
 */
export function checkEmail(email: unknown, policy: DomainPolicy, context: EmailContext): EmailCheck {
  const parsed = parseEmailAddress(email);
  if (!parsed.ok) {
    const words = CONTEXT_MESSAGES[context];
    const message = parsed.problem === 'missing' ? words.missing : parsed.problem === 'too-long' ? words.tooLong : words.malformed;
    return { allowed: false, reason: parsed.problem, message };
  }
  if (!isDomainAllowed(parsed.value.domain, policy)) {
    return { allowed: false, reason: 'domain-not-allowed', message: notAllowedMessage(policy, context), domain: parsed.value.domain };
  }
  return { allowed: true, address: parsed.value };
}

/** Checks a sign-up email (see {@link checkEmail}). */
export function checkSignUpEmail(email: unknown, policy: DomainPolicy): EmailCheck {
  return checkEmail(email, policy, 'sign-up');
}
