/**
 * Post-authentication trigger: records the sign-in (profile, audit entry) and clears the attempt
 * counter, idempotently. Logic in ./record.ts and ./sign-in.ts; see docs/lockout.md.
 */
import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SYNC_TRIGGER_BUDGET, clientConfig } from '../common/aws.ts';
import { ENV, readInt, readString } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { handleSignIn } from './sign-in.ts';

const tableName = readString(ENV.tableName);
const auditRetentionDays = readInt(ENV.auditRetentionDays, { min: 1, max: 3650, default: 90 });
const db = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(SYNC_TRIGGER_BUDGET)));

// The logic logs its own failures, so the wrapper adds no ERROR line.
export const handler = lambdaHandler({ kind: 'sync-trigger' }, async (event: PostAuthenticationTriggerEvent): Promise<PostAuthenticationTriggerEvent> => {
  await handleSignIn({ db, tableName, auditRetentionDays, now: Date.now }, event);
  return event;
});
