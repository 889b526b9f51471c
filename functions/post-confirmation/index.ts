/**
 * Post confirmation trigger: saves the new user's profile, which queues the welcome email on the table's stream.
 * See confirm.ts for the behaviour and the failure policy; this file only wires configuration and clients.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { clientConfig, SYNC_TRIGGER_BUDGET } from '../common/aws.ts';
import { ENV, readString } from '../common/config.ts';
import { errorName, toPublicError } from '../common/errors.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { postConfirmation, type PostConfirmationDeps } from './confirm.ts';

const deps: PostConfirmationDeps = {
  db: DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig(SYNC_TRIGGER_BUDGET)), { marshallOptions: { removeUndefinedValues: true } }),
  tableName: readString(ENV.tableName),
  now: Date.now,
};

export const handler = async (event: PostConfirmationTriggerEvent): Promise<PostConfirmationTriggerEvent> => {
  logger.setCorrelationId(fingerprint(String(event?.userName ?? '')));
  try {
    await postConfirmation(event, deps);
    return event;
  } catch (error) {
    const publicError = toPublicError(error);
    logger.error('Post confirmation failed', { errorName: errorName(error), reason: publicError.reason });
    throw publicError;
  }
};
