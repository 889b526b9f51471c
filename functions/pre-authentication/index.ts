/**
 * Pre-authentication trigger: counts every sign-in attempt before Cognito checks the password and
 * refuses attempts for a locked login. Logic in ./check.ts and ./attempts.ts; see docs/lockout.md.
 */
import type { PreAuthenticationTriggerEvent } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SYNC_TRIGGER_BUDGET, clientConfig } from '../common/aws.ts';
import { ENV, readLockout, readString } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { checkSignInAttempt } from './check.ts';

const settings = readLockout();
const tableName = readString(ENV.tableName);
const db = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(SYNC_TRIGGER_BUDGET)));

// The logic logs its own refusals and failures (docs/lockout.md), so the wrapper adds no ERROR line.
export const handler = lambdaHandler({ kind: 'sync-trigger' }, async (event: PreAuthenticationTriggerEvent): Promise<PreAuthenticationTriggerEvent> => {
  await checkSignInAttempt({ db, tableName, settings, now: Date.now }, event);
  return event;
});
