/**
 * Sign-up reminder workflow task: reminds a user who has not confirmed yet and tells the state machine
 * whether the account is still pending. The reminder goes out once however often Step Functions replays
 * the task (see ./logic.ts).
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { BACKGROUND_BUDGET, clientConfig } from '../common/aws.ts';
import { ENV, readBranding, readSenderIdentity, readString } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { idempotencyStore } from '../common/idempotency.ts';
import type { TaskInput } from '../common/workflow-task.ts';
import { reminderSender, sendReminder, type ReminderDeps, type ReminderResult } from './logic.ts';

const tableName = readString(ENV.tableName);
const deps: ReminderDeps = {
  cognito: new CognitoIdentityProviderClient(clientConfig(BACKGROUND_BUDGET)),
  ses: new SESv2Client(clientConfig(BACKGROUND_BUDGET)),
  branding: readBranding(),
  from: readSenderIdentity(),
};
const sender = reminderSender(deps, idempotencyStore(tableName));

export const handler = lambdaHandler({ kind: 'workflow-task' }, (input: TaskInput, context): Promise<ReminderResult> => sendReminder(input, deps, sender, context));
