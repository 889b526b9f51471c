/**
 * Pre-authentication trigger: counts every sign-in attempt before Cognito checks the password and
 * refuses attempts for a locked login. Logic in ./logic.ts and ./attempts.ts; see docs/lockout.md.
 */
import type { PreAuthenticationTriggerEvent } from 'aws-lambda';
import { dynamoDbDocumentClient } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { ENV, readLockout, readString } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { checkSignInAttempt } from './logic.ts';

const settings = readLockout();
const tableName = readString(ENV.tableName);
const db = dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET);

// The logic logs its own refusals and failures (docs/lockout.md), so the wrapper adds no ERROR line.
export const handler = lambdaHandler({ kind: 'sync-trigger' }, async (event: PreAuthenticationTriggerEvent): Promise<PreAuthenticationTriggerEvent> => {
  await checkSignInAttempt({ db, tableName, settings, now: Date.now }, event);
  return event;
});
