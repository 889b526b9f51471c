/**
 * Pre sign-up trigger: refuses email domains outside the allowlist and starts the reminder workflow.
 * See sign-up.ts for the behaviour; this file only wires configuration and clients.
 */
import type { PreSignUpTriggerEvent } from 'aws-lambda';
import { stepFunctionsClient } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { ENV, readArn } from '../common/config.ts';
import { errorName, toPublicError } from '../common/errors.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { preSignUp, type PreSignUpDeps } from './sign-up.ts';

const deps: PreSignUpDeps = {
  sfn: stepFunctionsClient(SYNC_TRIGGER_BUDGET),
  stateMachineArn: readArn(ENV.reminderStateMachineArn),
  policy: readDomainPolicyFromEnv(),
  now: Date.now,
};

export const handler = async (event: PreSignUpTriggerEvent): Promise<PreSignUpTriggerEvent> => {
  logger.setCorrelationId(fingerprint(String(event?.userName ?? '')));
  try {
    return await preSignUp(event, deps);
  } catch (error) {
    const publicError = toPublicError(error);
    if (publicError.reason === 'internal') logger.error('Pre sign-up failed', { errorName: errorName(error) });
    throw publicError;
  }
};
