/**
 * Post confirmation trigger: saves the new user's profile and sends one welcome email.
 * See confirm.ts for the behaviour and the SES failure policy; this file only wires configuration and clients.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, PostConfirmationTriggerEvent } from 'aws-lambda';
import { clientConfig, SYNC_TRIGGER_BUDGET } from '../common/aws.ts';
import { ENV, readBranding, readSenderIdentity, readString } from '../common/config.ts';
import { errorName, toPublicError } from '../common/errors.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { postConfirmation, welcomeSender, type PostConfirmationDeps } from './confirm.ts';

const tableName = readString(ENV.tableName);
const dynamo = new DynamoDBClient(clientConfig(SYNC_TRIGGER_BUDGET));
const deps: PostConfirmationDeps = {
  db: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
  ses: new SESv2Client(clientConfig(SYNC_TRIGGER_BUDGET)),
  tableName,
  branding: readBranding(),
  from: readSenderIdentity(),
  now: Date.now,
};
const sender = welcomeSender(
  deps,
  new DynamoDBPersistenceLayer({ tableName, keyAttr: 'pk', sortKeyAttr: 'sk', expiryAttr: 'expiresAt', awsSdkV3Client: dynamo }),
);

export const handler = async (event: PostConfirmationTriggerEvent, context?: Context): Promise<PostConfirmationTriggerEvent> => {
  logger.setCorrelationId(fingerprint(String(event?.userName ?? '')));
  try {
    await postConfirmation(event, deps, sender, context);
    return event;
  } catch (error) {
    const publicError = toPublicError(error);
    logger.error('Post confirmation failed', { errorName: errorName(error), reason: publicError.reason });
    throw publicError;
  }
};
