/**
 * Sign-up reminder workflow task: removes an account that was never confirmed and says so.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { BACKGROUND_BUDGET, clientConfig } from '../common/aws.ts';
import { readBranding, readSenderIdentity } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import type { TaskInput } from '../common/workflow-task.ts';
import { deleteUnconfirmedUser, type DeletionResult } from './logic.ts';

const deps = {
  cognito: new CognitoIdentityProviderClient(clientConfig(BACKGROUND_BUDGET)),
  ses: new SESv2Client(clientConfig(BACKGROUND_BUDGET)),
  branding: readBranding(),
  from: readSenderIdentity(),
};

export const handler = lambdaHandler({ kind: 'workflow-task' }, (input: TaskInput): Promise<DeletionResult> => deleteUnconfirmedUser(input, deps));
