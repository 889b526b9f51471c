/**
 * The passwordless sign-in protocol shared by the three custom-authentication triggers (and by
 * post-authentication, which audits the method): the challenge steps, the table items, and how a
 * secret is hashed. See docs/functions.md ("Passwordless sign-in") for the sequence.
 *
 * A session runs in up to three kinds of round, each named in the challenge's `challengeMetadata`
 * (which Cognito keeps in the session and never shows the client):
 * - `METHOD`: the client is asked how to sign in. Cognito passes InitiateAuth's ClientMetadata to none
 *   of the challenge triggers, so the choice arrives with the answer to this round, in the
 *   RespondToAuthChallenge ClientMetadata (`signInMethod`: `link` or `code`).
 * - `LINK:<id>` / `CODE:<id>`: a magic link or a code went to the user; the answer is the link's token
 *   or the code. A wrong answer re-presents the same challenge, up to {@link MAX_WRONG_ANSWERS}.
 *
 * Secrets never leave the create trigger except in the message to the user: the challenge's private
 * parameters and the table hold {@link secretHash} only. The table items are in ./passwordless-items.ts,
 * apart from this module so that define-auth-challenge, which reads only the event, bundles no DynamoDB client.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The only challenge this flow issues. */
export const CUSTOM_CHALLENGE = 'CUSTOM_CHALLENGE';

/** Wrong answers (to a link or code) a session may give before define-auth-challenge fails it. */
export const MAX_WRONG_ANSWERS = 3;
/** Unanswerable method rounds a session may go through (a client asking for an unknown method). */
export const MAX_METHOD_ROUNDS = 3;

/** What the client asks for in `clientMetadata.signInMethod`. */
export type SignInMethod = 'link' | 'code';
export const SIGN_IN_METHOD_KEY = 'signInMethod';

/** How a sign-in was made, as post-authentication audits it. */
export type AuditedMethod = 'password' | 'magic-link' | 'code';

/** The method a client asked for, or undefined for anything else. */
export function requestedMethod(clientMetadata: Readonly<Record<string, string>> | undefined): SignInMethod | undefined {
  const value = clientMetadata?.[SIGN_IN_METHOD_KEY];
  return value === 'link' || value === 'code' ? value : undefined;
}

/** One round's `challengeMetadata`. */
export type Round = { readonly step: 'method' } | { readonly step: SignInMethod; readonly challengeId: string };

const CHALLENGE_ID = /^[0-9a-f]{32}$/;

export function roundMetadata(round: Round): string {
  return round.step === 'method' ? 'METHOD' : `${round.step === 'link' ? 'LINK' : 'CODE'}:${round.challengeId}`;
}

/** Reads a round back from `challengeMetadata`; undefined for anything this flow did not write. */
export function parseRound(metadata: string | undefined): Round | undefined {
  if (metadata === 'METHOD') return { step: 'method' };
  const match = /^(LINK|CODE):(.+)$/.exec(metadata ?? '');
  if (!match || !CHALLENGE_ID.test(match[2]!)) return undefined;
  return { step: match[1] === 'LINK' ? 'link' : 'code', challengeId: match[2]! };
}

/** Digits in an emailed code. */
export const CODE_DIGITS = 6;

/**
 * The hash kept of a secret: SHA-256 over the challenge id, the kind and the secret, so a hash is bound
 * to its challenge and a code's hash cannot stand for a link's. A 6-digit code's hash could be
 * reversed by trying every code; it is only ever readable by the pool (private parameters) and by
 * roles that already hold the table, and the code expires within minutes.
 */
export function secretHash(challengeId: string, step: SignInMethod, secret: string): string {
  return createHash('sha256').update(`${challengeId}\n${step}\n${secret}`, 'utf8').digest('hex');
}

/**
 * Compares two hashes in constant time. Lengths are public (every hash is 64 hex characters), so
 * different lengths are simply unequal.
 */
export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A magic link's token: the challenge id and the secret, which the app sends back as the answer. */
export function linkToken(challengeId: string, secret: string): string {
  return `${challengeId}.${secret}`;
}

/** Splits an answer into a link token's parts; undefined when it is not shaped like one. */
export function parseLinkToken(answer: string): { challengeId: string; secret: string } | undefined {
  const match = /^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/.exec(answer);
  return match ? { challengeId: match[1]!, secret: match[2]! } : undefined;
}

/** The private challenge parameters of a link or code round; what verify-auth-challenge checks against. */
export interface PrivateChallenge {
  readonly step: SignInMethod;
  readonly challengeId: string;
  readonly hash: string;
  /** Epoch milliseconds after which the secret is refused. */
  readonly validUntil: number;
}

export function privateParameters(challenge: PrivateChallenge): Record<string, string> {
  return { step: challenge.step, challengeId: challenge.challengeId, hash: challenge.hash, validUntil: String(challenge.validUntil) };
}

/** Reads private parameters back; undefined when they are not a link or code round's. */
export function parsePrivateParameters(params: Readonly<Record<string, string>> | undefined): PrivateChallenge | undefined {
  if (!params) return undefined;
  const { step, challengeId, hash, validUntil } = params;
  if ((step !== 'link' && step !== 'code') || !CHALLENGE_ID.test(challengeId ?? '') || !/^[0-9a-f]{64}$/.test(hash ?? '')) return undefined;
  const until = Number(validUntil);
  if (!Number.isSafeInteger(until)) return undefined;
  return { step, challengeId: challengeId!, hash: hash!, validUntil: until };
}

/** The audited method of a verified round. */
export function auditedMethod(step: SignInMethod): AuditedMethod {
  return step === 'link' ? 'magic-link' : 'code';
}
