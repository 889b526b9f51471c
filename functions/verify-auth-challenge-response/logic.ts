/**
 * The verify-auth-challenge-response logic: a link's token or a code is accepted when its hash matches
 * the challenge's (compared in constant time), before it expires, and only once: the challenge's item
 * is marked used by a conditional write, so of any number of parallel answers exactly one succeeds.
 *
 * Every refusal is the same `answerCorrect: false`, whatever the reason, and an unknown user's answer
 * is always refused; define-auth-challenge then counts the wrong answer.
 */
import type { VerifyAuthChallengeResponseTriggerEvent } from 'aws-lambda';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { errorName } from '../common/errors.ts';
import { lockoutLogin, type DocumentSender } from '../common/lockout.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { CODE_DIGITS, auditedMethod, hashesEqual, parseLinkToken, parsePrivateParameters, secretHash, type PrivateChallenge } from '../common/passwordless.ts';
import { PASSWORDLESS_SK, SIGN_IN_MARKER_SECONDS, passwordlessPk } from '../common/passwordless-items.ts';

export interface VerifyDeps {
  readonly db: DocumentSender;
  readonly tableName: string;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/** Why an answer was refused (logged, never shown). */
export type Refusal = 'user-not-found' | 'not-a-secret-round' | 'malformed-answer' | 'wrong-answer' | 'expired' | 'already-used';

export type Verdict = { readonly correct: true } | { readonly correct: false; readonly reason: Refusal };

/** The hash the answer would have; a malformed answer is hashed too, so every answer costs the same. */
function answerHash(challenge: PrivateChallenge, answer: string): { hash: string; wellFormed: boolean } {
  if (challenge.step === 'code') {
    const wellFormed = answer.length === CODE_DIGITS && /^[0-9]+$/.test(answer);
    return { hash: secretHash(challenge.challengeId, 'code', wellFormed ? answer : ''), wellFormed };
  }
  const token = parseLinkToken(answer);
  // A token from another session carries another challenge id: it is hashed under this one and fails.
  return { hash: secretHash(challenge.challengeId, 'link', token && token.challengeId === challenge.challengeId ? token.secret : ''), wellFormed: token !== undefined };
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Checks one answer. Throws only when DynamoDB fails, so the sign-in fails closed. */
export async function verifyAnswer(deps: VerifyDeps, event: VerifyAuthChallengeResponseTriggerEvent): Promise<Verdict> {
  const request = event.request as Partial<VerifyAuthChallengeResponseTriggerEvent['request']> | undefined;
  const challenge = parsePrivateParameters(request?.privateChallengeParameters);
  const answer = typeof request?.challengeAnswer === 'string' ? request.challengeAnswer.slice(0, 256) : '';
  if (!challenge) return { correct: false, reason: 'not-a-secret-round' };
  const { hash, wellFormed } = answerHash(challenge, answer);
  const matches = hashesEqual(hash, challenge.hash);
  if (request?.userNotFound === true) return { correct: false, reason: 'user-not-found' };
  if (!wellFormed) return { correct: false, reason: 'malformed-answer' };
  if (!matches) return { correct: false, reason: 'wrong-answer' };
  const now = deps.now();
  if (now >= challenge.validUntil) return { correct: false, reason: 'expired' };

  const email = request?.userAttributes?.email;
  const login = lockoutLogin({ userName: String(event.userName ?? ''), email: typeof email === 'string' ? email : undefined });
  const pk = passwordlessPk(login);
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: { pk, sk: PASSWORDLESS_SK.challenge(challenge.challengeId) },
        UpdateExpression: 'SET usedAt = :now',
        // The item must be the one create-auth-challenge wrote for this very hash, unused and unexpired.
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(usedAt) AND #hash = :hash AND validUntil > :now',
        ExpressionAttributeNames: { '#hash': 'hash' },
        ExpressionAttributeValues: { ':now': now, ':hash': challenge.hash },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) return { correct: false, reason: 'already-used' };
    throw error;
  }
  // What post-authentication audits as the method; losing it only makes the audit say `password`.
  try {
    await deps.db.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: { pk, sk: PASSWORDLESS_SK.signIn, method: auditedMethod(challenge.step), at: now, expiresAt: Math.ceil(now / 1000) + SIGN_IN_MARKER_SECONDS },
      }),
    );
  } catch (error) {
    logger.error('sign-in method could not be recorded for the audit', { user: fingerprint(login), error: errorName(error) });
  }
  return { correct: true };
}
