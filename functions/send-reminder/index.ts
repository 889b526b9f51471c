/**
 * Sign-up reminder workflow task: reminds a user who has not confirmed yet and tells the state machine
 * whether the account is still pending.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { BACKGROUND_BUDGET, clientConfig } from '../common/aws.ts';
import { readBranding, readSenderIdentity } from '../common/config.ts';
import type { TaskInput } from '../common/workflow-task.ts';
import { sendReminder, type ReminderResult } from './remind.ts';

const deps = {
  cognito: new CognitoIdentityProviderClient(clientConfig(BACKGROUND_BUDGET)),
  ses: new SESv2Client(clientConfig(BACKGROUND_BUDGET)),
  branding: readBranding(),
  from: readSenderIdentity(),
};

export const handler = (input: TaskInput): Promise<ReminderResult> => sendReminder(input, deps);
