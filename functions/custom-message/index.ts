/**
 * Custom message trigger: personalised email and SMS for every message Cognito sends itself.
 * See ./logic.ts for the behaviour; this file only wires configuration.
 */
import type { CustomMessageTriggerEvent } from 'aws-lambda';
import { readBranding } from '../common/config.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { lambdaHandler } from '../common/handler.ts';
import { customMessage, type CustomMessageDeps } from './logic.ts';

const deps: CustomMessageDeps = { branding: readBranding(), policy: readDomainPolicyFromEnv() };

export const handler = lambdaHandler(
  { kind: 'sync-trigger', failure: { message: 'Custom message failed' } },
  (event: CustomMessageTriggerEvent): CustomMessageTriggerEvent => customMessage(event, deps),
);
