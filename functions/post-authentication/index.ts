/**
 * Post-authentication trigger: records the sign-in (profile, audit entry) and clears the attempt
 * counter, idempotently. Logic in ./record.ts and ./logic.ts; see docs/lockout.md.
 */
import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { dynamoDbDocumentClient } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { ENV, readBool, readInt, readString } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { handleSignIn } from './logic.ts';

const tableName = readString(ENV.tableName);
const auditRetentionDays = readInt(ENV.auditRetentionDays, { min: 1, max: 3650, default: 90 });
const passwordless = readBool(ENV.signInMethodMarkers, false);
const db = dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET);

// The logic logs its own failures, so the wrapper adds no ERROR line.
export const handler = lambdaHandler({ kind: 'sync-trigger' }, async (event: PostAuthenticationTriggerEvent): Promise<PostAuthenticationTriggerEvent> => {
  await handleSignIn({ db, tableName, auditRetentionDays, passwordless, now: Date.now }, event);
  return event;
});
