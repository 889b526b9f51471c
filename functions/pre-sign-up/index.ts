/**
 * Pre sign-up trigger: refuses email domains outside the allowlist and starts the reminder workflow.
 * See ./logic.ts for the behaviour; this file only wires configuration and clients.
 */
import type { PreSignUpTriggerEvent } from 'aws-lambda';
import { stepFunctionsClient } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { ENV, readArn } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { preSignUp, type PreSignUpDeps } from './logic.ts';

const deps: PreSignUpDeps = {
  sfn: stepFunctionsClient(SYNC_TRIGGER_BUDGET),
  stateMachineArn: readArn(ENV.reminderStateMachineArn),
  policy: readDomainPolicyFromEnv(),
  now: Date.now,
};

export const handler = lambdaHandler(
  { kind: 'sync-trigger', failure: { message: 'Pre sign-up failed' } },
  (event: PreSignUpTriggerEvent): Promise<PreSignUpTriggerEvent> => preSignUp(event, deps),
);
