/**
 * Post confirmation trigger: saves the new user's profile and sends one welcome email.
 * See confirm.ts for the behaviour and the SES failure policy; this file only wires configuration and clients.
 *
 * Two kinds of event arrive: Cognito's (synchronous) and the function's own welcome retry message
 * (asynchronous, `InvocationType: Event`), which it sends itself when SES fails.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, PostConfirmationTriggerEvent } from 'aws-lambda';
import { clientConfig, SYNC_TRIGGER_BUDGET } from '../common/aws.ts';
import { ENV, readBranding, readOptionalString, readSenderIdentity, readString, RUNTIME_ENV } from '../common/config.ts';
import { errorName, toPublicError } from '../common/errors.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { isWelcomeRetry, postConfirmation, retryWelcome, welcomeSender, type PostConfirmationDeps, type WelcomeRetryMessage, type WelcomeRetryResult } from './confirm.ts';

const tableName = readString(ENV.tableName);
const dynamo = new DynamoDBClient(clientConfig(SYNC_TRIGGER_BUDGET));
const deps: PostConfirmationDeps = {
  db: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
  // One attempt: a failed send is handed to the asynchronous retry, and a second synchronous attempt
  // would spend a second of Cognito's 5 s after the table writes and the idempotency record.
  ses: new SESv2Client(clientConfig({ ...SYNC_TRIGGER_BUDGET, maxAttempts: 1 })),
  tableName,
  branding: readBranding(),
  from: readSenderIdentity(),
  now: Date.now,
  // Loaded with the bundle, not lazily on the failure path: in this single-file CommonJS bundle a dynamic
  // import made the cold start slower, not faster (docs/functions.md has the measurements).
  lambda: new LambdaClient(clientConfig(SYNC_TRIGGER_BUDGET)),
  // Lambda always sets it; if it is ever missing, only a hand-off fails, naming the variable.
  functionName: readOptionalString(RUNTIME_ENV.functionName),
};
const sender = welcomeSender(
  deps,
  new DynamoDBPersistenceLayer({ tableName, keyAttr: 'pk', sortKeyAttr: 'sk', expiryAttr: 'expiresAt', awsSdkV3Client: dynamo }),
);

export const handler = async (
  event: PostConfirmationTriggerEvent | WelcomeRetryMessage,
  context?: Context,
): Promise<PostConfirmationTriggerEvent | WelcomeRetryResult> => {
  if (isWelcomeRetry(event)) {
    logger.setCorrelationId(fingerprint(String(event.sub ?? '')));
    // Throws while the email cannot be sent: Lambda then retries this asynchronous event.
    return retryWelcome(event, deps, sender, context);
  }
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
