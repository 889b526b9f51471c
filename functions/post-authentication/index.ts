/**
 * Post-authentication trigger: records the sign-in (profile, audit entry) and clears the attempt
 * counter, idempotently. Logic in ./record.ts and ./sign-in.ts; see docs/lockout.md.
 */
import type { Context, PostAuthenticationTriggerEvent } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SYNC_TRIGGER_BUDGET, clientConfig } from '../common/aws.ts';
import { ENV, readInt, readString } from '../common/config.ts';
import { toPublicError } from '../common/errors.ts';
import { logger } from '../common/logger.ts';
import { handleSignIn } from './sign-in.ts';

const tableName = readString(ENV.tableName);
const auditRetentionDays = readInt(ENV.auditRetentionDays, { min: 1, max: 3650, default: 90 });
const db = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(SYNC_TRIGGER_BUDGET)));

export const handler = async (event: PostAuthenticationTriggerEvent, context?: Context): Promise<PostAuthenticationTriggerEvent> => {
  if (context) logger.addContext(context);
  try {
    await handleSignIn({ db, tableName, auditRetentionDays, now: Date.now }, event);
  } catch (error) {
    throw toPublicError(error);
  }
  return event;
};
