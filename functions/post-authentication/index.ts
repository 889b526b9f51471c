/**
 * Post-authentication trigger: records the sign-in (profile, audit entry) and clears the attempt
 * counter, idempotently. Logic in ./record.ts and ./sign-in.ts; see docs/lockout.md.
 */
import type { Context, PostAuthenticationTriggerEvent } from 'aws-lambda';
import { dynamoDbDocumentClient } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { ENV, readInt, readString } from '../common/config.ts';
import { toPublicError } from '../common/errors.ts';
import { logger } from '../common/logger.ts';
import { handleSignIn } from './sign-in.ts';

const tableName = readString(ENV.tableName);
const auditRetentionDays = readInt(ENV.auditRetentionDays, { min: 1, max: 3650, default: 90 });
const db = dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET);

export const handler = async (event: PostAuthenticationTriggerEvent, context?: Context): Promise<PostAuthenticationTriggerEvent> => {
  if (context) logger.addContext(context);
  try {
    await handleSignIn({ db, tableName, auditRetentionDays, now: Date.now }, event);
  } catch (error) {
    throw toPublicError(error);
  }
  return event;
};
