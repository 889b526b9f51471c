/**
 * Define-auth-challenge trigger: decides each step of a passwordless sign-in (ask for the method, send a
 * link or code, issue tokens, or fail after three wrong answers). Logic in ./decide.ts; the protocol in
 * ../common/passwordless.ts.
 */
import type { Context, DefineAuthChallengeTriggerEvent } from 'aws-lambda';
import { toPublicError } from '../common/errors.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { decide, respond } from './decide.ts';

export const handler = async (event: DefineAuthChallengeTriggerEvent, context?: Context): Promise<DefineAuthChallengeTriggerEvent> => {
  if (context) logger.addContext(context);
  try {
    const decision = decide(event?.request?.session);
    const line = { user: fingerprint(String(event?.userName ?? '')), rounds: Array.isArray(event?.request?.session) ? event.request.session.length : 0, ...decision };
    if (decision.next === 'fail') logger.warn('custom sign-in failed', line);
    else logger.info('custom sign-in step', line);
    return respond(event, decision);
  } catch (error) {
    throw toPublicError(error);
  }
};
