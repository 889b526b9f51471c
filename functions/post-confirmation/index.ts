/**
 * Post confirmation trigger: saves the new user's profile, which queues the welcome email on the table's stream.
 * See confirm.ts for the behaviour and the failure policy; this file only wires configuration and clients.
 */
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { dynamoDbDocumentClient } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { ENV, readString } from '../common/config.ts';
import { errorName, toPublicError } from '../common/errors.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { postConfirmation, type PostConfirmationDeps } from './confirm.ts';

const deps: PostConfirmationDeps = {
  db: dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET, { marshallOptions: { removeUndefinedValues: true } }),
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
