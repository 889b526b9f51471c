/**
 * Pre token generation trigger (V1 or V2_0 events): refuses tokens to an account outside the domain
 * policy and removes the email claims from ID tokens. See policy.ts and claims.ts for the behaviour.
 */
import { errorName, toPublicError } from '../common/errors.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { responseShape, suppressEmailClaims, type TokenEvent } from './claims.ts';
import { enforceDomainPolicy } from './policy.ts';

const policy = readDomainPolicyFromEnv();

export const handler = async <E extends TokenEvent>(event: E): Promise<E> => {
  logger.setCorrelationId(fingerprint(String(event?.userName ?? '')));
  try {
    enforceDomainPolicy(event, policy);
    const result = suppressEmailClaims(event);
    logger.info('Email claims suppressed', { triggerSource: String(event.triggerSource).slice(0, 100), shape: responseShape(event) });
    return result;
  } catch (error) {
    const publicError = toPublicError(error);
    // A refused address is logged (WARN) where it is refused; only the unexpected fires the ERROR alarm.
    if (publicError.reason === 'internal') logger.error('Pre token generation failed', { errorName: errorName(error) });
    throw publicError;
  }
};
