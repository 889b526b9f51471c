/**
 * Define-auth-challenge trigger: decides each step of a passwordless sign-in (ask for the method, send a
 * link or code, issue tokens, or fail after three wrong answers). Logic in ./logic.ts; the protocol in
 * ../common/passwordless.ts.
 */
import type { DefineAuthChallengeTriggerEvent } from 'aws-lambda';
import { lambdaHandler } from '../common/handler.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { decide, respond } from './logic.ts';

export const handler = lambdaHandler({ kind: 'sync-trigger' }, (event: DefineAuthChallengeTriggerEvent): DefineAuthChallengeTriggerEvent => {
  const decision = decide(event?.request?.session);
  const line = { user: fingerprint(String(event?.userName ?? '')), rounds: Array.isArray(event?.request?.session) ? event.request.session.length : 0, ...decision };
  if (decision.next === 'fail') logger.warn('custom sign-in failed', line);
  else logger.info('custom sign-in step', line);
  return respond(event, decision);
});
