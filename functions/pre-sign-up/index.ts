/**
 * Pre sign-up trigger: refuses email domains outside the allowlist and starts the reminder workflow.
 * See sign-up.ts for the behaviour; this file only wires configuration and clients.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import type { PreSignUpTriggerEvent } from 'aws-lambda';
import { clientConfig, SYNC_TRIGGER_BUDGET } from '../common/aws.ts';
import { ENV, readArn } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { preSignUp, type PreSignUpDeps } from './sign-up.ts';

const deps: PreSignUpDeps = {
  sfn: new SFNClient(clientConfig(SYNC_TRIGGER_BUDGET)),
  stateMachineArn: readArn(ENV.reminderStateMachineArn),
  policy: readDomainPolicyFromEnv(),
  now: Date.now,
};

export const handler = lambdaHandler(
  { kind: 'sync-trigger', failure: { message: 'Pre sign-up failed' } },
  (event: PreSignUpTriggerEvent): Promise<PreSignUpTriggerEvent> => preSignUp(event, deps),
);
