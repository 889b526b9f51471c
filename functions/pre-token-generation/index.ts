/**
 * Pre token generation trigger (V1 or V2_0 events): removes the email claims from ID tokens.
 * See claims.ts for the behaviour.
 */
import { errorName, toPublicError } from '../common/errors.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { responseShape, suppressEmailClaims, type TokenEvent } from './claims.ts';

export const handler = async <E extends TokenEvent>(event: E): Promise<E> => {
  logger.setCorrelationId(fingerprint(String(event?.userName ?? '')));
  try {
    const result = suppressEmailClaims(event);
    logger.info('Email claims suppressed', { triggerSource: String(event.triggerSource).slice(0, 100), shape: responseShape(event) });
    return result;
  } catch (error) {
    logger.error('Pre token generation failed', { errorName: errorName(error) });
    throw toPublicError(error);
  }
};
