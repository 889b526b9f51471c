/**
 * Pre token generation trigger (V1 or V2_0 events): refuses tokens to an account outside the domain
 * policy and removes the email claims from ID tokens. See ./policy.ts and ./logic.ts for the behaviour.
 */
import type { Context } from 'aws-lambda';
import { lambdaHandler } from '../common/handler.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { logger } from '../common/logger.ts';
import { responseShape, suppressEmailClaims, type TokenEvent } from './logic.ts';
import { enforceDomainPolicy } from './policy.ts';

const policy = readDomainPolicyFromEnv();

const issueTokens = lambdaHandler({ kind: 'sync-trigger', failure: { message: 'Pre token generation failed' } }, (event: TokenEvent): TokenEvent => {
  enforceDomainPolicy(event, policy);
  const result = suppressEmailClaims(event);
  logger.info('Email claims suppressed', { triggerSource: String(event.triggerSource).slice(0, 100), shape: responseShape(event) });
  return result;
});

/** Answers with the event's own shape (V1 or V2_0), which the claims logic preserves. */
export const handler = <E extends TokenEvent>(event: E, context?: Context): Promise<E> => issueTokens(event, context) as Promise<E>;
