/**
 * Pre-authentication trigger: counts every sign-in attempt before Cognito checks the password and
 * refuses attempts for a locked login. Logic in ./check.ts and ./attempts.ts; see docs/lockout.md.
 */
import type { Context, PreAuthenticationTriggerEvent } from 'aws-lambda';
import { dynamoDbDocumentClient } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { ENV, readLockout, readString } from '../common/config.ts';
import { toPublicError } from '../common/errors.ts';
import { logger } from '../common/logger.ts';
import { checkSignInAttempt } from './check.ts';

const settings = readLockout();
const tableName = readString(ENV.tableName);
const db = dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET);

export const handler = async (event: PreAuthenticationTriggerEvent, context?: Context): Promise<PreAuthenticationTriggerEvent> => {
  if (context) logger.addContext(context);
  try {
    await checkSignInAttempt({ db, tableName, settings, now: Date.now }, event);
  } catch (error) {
    throw toPublicError(error);
  }
  return event;
};
