/**
 * Notify lockout: driven by an event source mapping on the table's stream, which delivers the writes that
 * engaged a lock on an existing account. See ./logic.ts for the behaviour and the retry policy; this file
 * only wires configuration and clients.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { BACKGROUND_BUDGET, clientConfig } from '../common/aws.ts';
import { ENV, readBranding, readAccountRecoveryUrl, readSenderIdentity, readString } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { idempotencyStore } from '../common/idempotency.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { handleLockRecords, noticeSender, type NotifyLockoutDeps } from './logic.ts';

const tableName = readString(ENV.tableName);
const resetUrl = readAccountRecoveryUrl();
const deps: NotifyLockoutDeps = {
  cognito: new CognitoIdentityProviderClient(clientConfig(BACKGROUND_BUDGET)),
  ses: new SESv2Client(clientConfig(BACKGROUND_BUDGET)),
  branding: readBranding(),
  from: readSenderIdentity(),
  domainPolicy: readDomainPolicyFromEnv(),
  ...(resetUrl ? { resetUrl } : {}),
};
const sender = noticeSender(deps, idempotencyStore(tableName));

/** Returns the records Lambda must deliver again (partial batch response); it never throws for one record. */
export const handler = lambdaHandler({ kind: 'async-task' }, async (event: DynamoDBStreamEvent, context): Promise<DynamoDBBatchResponse> => {
  const { batchItemFailures } = await handleLockRecords(event, deps, sender, context);
  return { batchItemFailures };
});
