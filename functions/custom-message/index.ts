/**
 * Custom message trigger: personalised email and SMS for every message Cognito sends itself.
 * See message.ts for the behaviour; this file only wires configuration.
 */
import type { CustomMessageTriggerEvent } from 'aws-lambda';
import { readBranding } from '../common/config.ts';
import { errorName, toPublicError } from '../common/errors.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { customMessage, type CustomMessageDeps } from './message.ts';

const deps: CustomMessageDeps = { branding: readBranding(), policy: readDomainPolicyFromEnv() };

export const handler = async (event: CustomMessageTriggerEvent): Promise<CustomMessageTriggerEvent> => {
  logger.setCorrelationId(fingerprint(String(event?.userName ?? '')));
  try {
    return customMessage(event, deps);
  } catch (error) {
    const publicError = toPublicError(error);
    // A refused address is logged (WARN) where it is refused; only the unexpected fires the ERROR alarm.
    if (publicError.reason === 'internal') logger.error('Custom message failed', { errorName: errorName(error) });
    throw publicError;
  }
};
