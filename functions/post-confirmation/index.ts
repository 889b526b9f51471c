/**
 * Post confirmation trigger: saves the new user's profile, which queues the welcome email on the table's stream.
 * See ./logic.ts for the behaviour and the failure policy; this file only wires configuration and clients.
 */
import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { dynamoDbDocumentClient } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { ENV, readString } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { postConfirmation, type PostConfirmationDeps } from './logic.ts';

const deps: PostConfirmationDeps = {
  db: dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET, { marshallOptions: { removeUndefinedValues: true } }),
  tableName: readString(ENV.tableName),
  now: Date.now,
};

export const handler = lambdaHandler(
  { kind: 'sync-trigger', failure: { message: 'Post confirmation failed', includeRefusals: true } },
  async (event: PostConfirmationTriggerEvent): Promise<PostConfirmationTriggerEvent> => {
    await postConfirmation(event, deps);
    return event;
  },
);
