/**
 * Send welcome email: driven by an event source mapping on the table's stream, which delivers the INSERTs
 * of PENDING profiles that post-confirmation writes. See ./logic.ts for the behaviour and the retry
 * policy; this file only wires configuration and clients.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { BACKGROUND_BUDGET, clientConfig } from '../common/aws.ts';
import { ENV, readBranding, readSenderIdentity, readString } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { idempotencyStore } from '../common/idempotency.ts';
import { handleWelcomeRecords, welcomeSender, type SendWelcomeEmailDeps } from './logic.ts';

const tableName = readString(ENV.tableName);
const dynamo = new DynamoDBClient(clientConfig(BACKGROUND_BUDGET));
const deps: SendWelcomeEmailDeps = {
  db: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
  ses: new SESv2Client(clientConfig(BACKGROUND_BUDGET)),
  tableName,
  branding: readBranding(),
  from: readSenderIdentity(),
  now: Date.now,
};
const sender = welcomeSender(deps, idempotencyStore(tableName, dynamo));

/** Returns the records Lambda must deliver again (partial batch response); it never throws for one record. */
export const handler = lambdaHandler({ kind: 'async-task' }, async (event: DynamoDBStreamEvent, context): Promise<DynamoDBBatchResponse> => {
  const { batchItemFailures } = await handleWelcomeRecords(event, deps, sender, context);
  return { batchItemFailures };
});
