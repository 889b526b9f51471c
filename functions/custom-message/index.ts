/**
 * Custom message trigger: personalised email and SMS for every message Cognito sends itself.
 * See message.ts for the behaviour; this file only wires configuration.
 */
import type { CustomMessageTriggerEvent } from 'aws-lambda';
import { readBranding } from '../common/config.ts';
import { errorName, toPublicError } from '../common/errors.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { customMessage, type CustomMessageDeps } from './message.ts';

const deps: CustomMessageDeps = { branding: readBranding() };

export const handler = async (event: CustomMessageTriggerEvent): Promise<CustomMessageTriggerEvent> => {
  logger.setCorrelationId(fingerprint(String(event?.userName ?? '')));
  try {
    return customMessage(event, deps);
  } catch (error) {
    logger.error('Custom message failed', { errorName: errorName(error) });
    throw toPublicError(error);
  }
};
