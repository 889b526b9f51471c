/**
 * The create-auth-challenge logic: ask the client for a method, or send a magic link or a 6-digit code
 * and hand Cognito only its hash.
 *
 * Every caller gets the same answer whether or not the account exists: an unknown user (Cognito's
 * `userNotFound`), an account without a verified address, or one whose address is outside the domain
 * policy, goes through the same rounds and the same throttle, and is simply sent nothing.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { CreateAuthChallengeTriggerEvent } from 'aws-lambda';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { BrandingSettings, PasswordlessSettings } from '../common/config.ts';
import { GENERIC_MESSAGE, UserFacingError, errorName } from '../common/errors.ts';
import type { DomainPolicy } from '../common/identity.ts';
import { lockoutLogin, type DocumentSender } from '../common/lockout.ts';
import { emailDomain, fingerprint, logger } from '../common/logger.ts';
import { CODE_DIGITS, CUSTOM_CHALLENGE, linkToken, parseRound, privateParameters, requestedMethod, roundMetadata, secretHash, type PrivateChallenge, type SignInMethod } from '../common/passwordless.ts';
import { PASSWORDLESS_SK, passwordlessPk } from '../common/passwordless-items.ts';
import { checkRecipient } from '../common/recipient-policy.ts';
import { takeMessageAllowance } from './throttle.ts';

/** What creating a challenge needs. */
export interface ChallengeDeps {
  readonly db: DocumentSender;
  readonly tableName: string;
  readonly settings: PasswordlessSettings;
  readonly branding: BrandingSettings;
  readonly policy: DomainPolicy;
  /** Renders and sends the message; rejects when the provider fails or `signal` aborts. */
  readonly send: (to: string, kind: 'MagicLink' | 'SignInCode', context: { name?: string; email: string; code?: string; link?: string }, signal: AbortSignal) => Promise<void>;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** Time for every call of one invocation together; defaults to {@link CREATE_DEADLINE_MS}. */
  readonly deadlineMs?: number;
}

/**
 * The throttle, the challenge item and the email share this deadline: each call alone may take up to
 * 3 s under the synchronous clients' budget, so without a shared bound three slow calls in a row would
 * outlast Cognito's 5 s.
 */
export const CREATE_DEADLINE_MS = 4_000;

/** Shown when a login asks for messages faster than the throttle allows; it names no account. */
export const THROTTLED_MESSAGE = 'A sign-in message was sent a moment ago. Use it, or wait a minute and ask again';

type Response = CreateAuthChallengeTriggerEvent['response'];

function methodRound(): Response {
  return { publicChallengeParameters: { step: 'method' }, privateChallengeParameters: { step: 'method' }, challengeMetadata: roundMetadata({ step: 'method' }) };
}

function secretRound(challenge: PrivateChallenge): Response {
  return {
    publicChallengeParameters: { step: challenge.step, expiresAt: new Date(challenge.validUntil).toISOString() },
    privateChallengeParameters: privateParameters(challenge),
    challengeMetadata: roundMetadata({ step: challenge.step, challengeId: challenge.challengeId }),
  };
}

/** A 6-digit code, uniformly drawn (leading zeros kept). */
function newCode(): string {
  return String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
}

/** Where a known, verified, allowed user's message goes; undefined for everyone who must get nothing. */
function recipientOf(event: CreateAuthChallengeTriggerEvent, policy: DomainPolicy): string | undefined {
  if (event.request.userNotFound === true) return undefined;
  const attributes = event.request.userAttributes ?? {};
  if (attributes.email_verified !== 'true') return undefined;
  return checkRecipient('MagicLink', attributes.email, policy).allowed ? attributes.email : undefined;
}

/** Builds the response to one create-auth-challenge event. */
export async function createChallenge(deps: ChallengeDeps, event: CreateAuthChallengeTriggerEvent): Promise<Response> {
  const request = event.request as Partial<CreateAuthChallengeTriggerEvent['request']> | undefined;
  if (request?.challengeName !== CUSTOM_CHALLENGE || !Array.isArray(request.session) || typeof event.userName !== 'string') {
    logger.error('malformed create-auth-challenge event', { reason: 'malformed-event' });
    throw new UserFacingError('malformed-event', GENERIC_MESSAGE);
  }
  const last = request.session[request.session.length - 1];
  const round = last ? parseRound(last.challengeMetadata) : undefined;
  const email = request.userAttributes?.email;
  const login = lockoutLogin({ userName: event.userName, email: typeof email === 'string' ? email : undefined, userNotFound: request.userNotFound });
  const user = fingerprint(login);

  if (!round) return methodRound();
  if (round.step === 'method') {
    const method = requestedMethod(request.clientMetadata);
    if (!method) return methodRound();
    return issue(deps, event as CreateAuthChallengeTriggerEvent, login, method);
  }
  // A wrong answer: the same link or code stays valid, with the same hash and expiry, until it expires.
  // Everyone's challenge is in the table (see `issue`), so this step looks the same for every caller.
  const stored = await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: { pk: passwordlessPk(login), sk: PASSWORDLESS_SK.challenge(round.challengeId) }, ConsistentRead: true }));
  const item = stored.Item;
  if (!item || typeof item.hash !== 'string' || typeof item.validUntil !== 'number' || item.step !== round.step) {
    logger.warn('challenge to re-present not found', { user, reason: 'challenge-missing' });
    throw new UserFacingError('challenge-missing', GENERIC_MESSAGE);
  }
  logger.info('challenge re-presented after a wrong answer', { user, step: round.step });
  return secretRound({ step: round.step, challengeId: round.challengeId, hash: item.hash, validUntil: item.validUntil });
}

async function issue(deps: ChallengeDeps, event: CreateAuthChallengeTriggerEvent, login: string, step: SignInMethod): Promise<Response> {
  const user = fingerprint(login);
  const signal = AbortSignal.timeout(deps.deadlineMs ?? CREATE_DEADLINE_MS);
  let allowed: boolean;
  try {
    allowed = await takeMessageAllowance(deps, login, signal);
  } catch (error) {
    logger.error('message throttle unavailable; nothing sent', { user, error: errorName(error) });
    throw new UserFacingError('throttle-unavailable', GENERIC_MESSAGE, { cause: error });
  }
  if (!allowed) {
    logger.warn('sign-in message refused by the throttle', { user, step, reason: 'throttled' });
    throw new UserFacingError('throttled', THROTTLED_MESSAGE);
  }
  const recipient = recipientOf(event, deps.policy);
  const challengeId = randomBytes(16).toString('hex');
  const secret = step === 'code' ? newCode() : randomBytes(32).toString('base64url');
  const validUntil = deps.now() + deps.settings.validitySeconds * 1000;
  // Someone who is sent nothing gets a challenge like anyone's, stored the same way, whose hash is of
  // no secret at all (random bytes), so no answer matches it and a retry re-presents it unchanged.
  const hash = recipient ? secretHash(challengeId, step, secret) : randomBytes(32).toString('hex');
  const challenge: PrivateChallenge = { step, challengeId, hash, validUntil };
  await deps.db.send(
    new PutCommand({
      TableName: deps.tableName,
      Item: { pk: passwordlessPk(login), sk: PASSWORDLESS_SK.challenge(challengeId), step, hash: challenge.hash, validUntil, expiresAt: Math.ceil(validUntil / 1000) + 3600 },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
    { abortSignal: signal },
  );
  if (!recipient) {
    logger.info('sign-in message not sent', { user, step, reason: event.request.userNotFound ? 'user-not-found' : 'no-allowed-verified-email' });
    return secretRound(challenge);
  }
  const name = event.request.userAttributes.given_name || event.request.userAttributes.name;
  const context = { ...(name ? { name } : {}), email: recipient };
  try {
    if (step === 'code') await deps.send(recipient, 'SignInCode', { ...context, code: secret }, signal);
    else await deps.send(recipient, 'MagicLink', { ...context, link: `${deps.settings.linkUrl}#${new URLSearchParams({ token: linkToken(challengeId, secret) })}` }, signal);
  } catch (error) {
    logger.error('sign-in message could not be sent', { user, step, domain: emailDomain(recipient), error: errorName(error) });
    throw new UserFacingError('delivery-failed', GENERIC_MESSAGE, { cause: error });
  }
  logger.info('sign-in message sent', { user, step, domain: emailDomain(recipient), challengeId });
  return secretRound(challenge);
}
