/**
 * The define-auth-challenge decision: from the session so far, issue the next challenge, issue tokens,
 * or fail. It reads nothing but the event, so an unknown user (`userNotFound`) is walked through exactly
 * the same rounds as a real one and is refused only where a wrong answer would be.
 */
import type { DefineAuthChallengeTriggerEvent } from 'aws-lambda';
import { CUSTOM_CHALLENGE, MAX_METHOD_ROUNDS, MAX_WRONG_ANSWERS, parseRound } from '../common/passwordless.ts';

/** What Cognito is told to do next, with the reason (for logs and tests; never shown). */
export type Decision =
  | { readonly next: 'challenge'; readonly reason: 'first-round' | 'method-chosen' | 'retry' }
  | { readonly next: 'tokens'; readonly reason: 'answered' }
  | { readonly next: 'fail'; readonly reason: 'foreign-challenge' | 'too-many-wrong-answers' | 'too-many-method-rounds' | 'malformed-session' };

/** Decides the next step of a custom-auth session. */
export function decide(session: DefineAuthChallengeTriggerEvent['request']['session'] | undefined): Decision {
  if (!Array.isArray(session)) return { next: 'fail', reason: 'malformed-session' };
  if (session.length === 0) return { next: 'challenge', reason: 'first-round' };
  let wrong = 0;
  let methodRounds = 0;
  for (const result of session) {
    // Only our own rounds: a session that began with SRP or any other challenge is not this flow.
    if (result?.challengeName !== CUSTOM_CHALLENGE) return { next: 'fail', reason: 'foreign-challenge' };
    const round = parseRound(result.challengeMetadata);
    if (!round) return { next: 'fail', reason: 'foreign-challenge' };
    if (round.step === 'method') methodRounds++;
    else if (result.challengeResult !== true) wrong++;
  }
  const last = session[session.length - 1]!;
  const lastRound = parseRound(last.challengeMetadata)!;
  if (lastRound.step !== 'method' && last.challengeResult === true) return { next: 'tokens', reason: 'answered' };
  if (wrong >= MAX_WRONG_ANSWERS) return { next: 'fail', reason: 'too-many-wrong-answers' };
  if (methodRounds > MAX_METHOD_ROUNDS) return { next: 'fail', reason: 'too-many-method-rounds' };
  return { next: 'challenge', reason: lastRound.step === 'method' ? 'method-chosen' : 'retry' };
}

/** The event's response for a decision. */
export function respond(event: DefineAuthChallengeTriggerEvent, decision: Decision): DefineAuthChallengeTriggerEvent {
  event.response = {
    issueTokens: decision.next === 'tokens',
    failAuthentication: decision.next === 'fail',
    ...(decision.next === 'challenge' ? { challengeName: CUSTOM_CHALLENGE } : {}),
  };
  return event;
}
