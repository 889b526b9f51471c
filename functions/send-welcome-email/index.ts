/**
 * Send welcome email: invoked asynchronously by post-confirmation with `{"kind": "welcome-email", userPoolId, sub}`.
 * See welcome.ts for the behaviour and the retry policy; this file only wires configuration and clients.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { BACKGROUND_BUDGET, clientConfig } from '../common/aws.ts';
import { ENV, readBranding, readSenderIdentity, readString } from '../common/config.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { sendWelcomeEmail, welcomeSender, type SendWelcomeEmailDeps, type WelcomeEmailResult } from './welcome.ts';

const tableName = readString(ENV.tableName);
const dynamo = new DynamoDBClient(clientConfig(BACKGROUND_BUDGET));
const deps: SendWelcomeEmailDeps = {
  db: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
  ses: new SESv2Client(clientConfig(BACKGROUND_BUDGET)),
  tableName,
  branding: readBranding(),
  from: readSenderIdentity(),
  now: Date.now,
};
const sender = welcomeSender(
  deps,
  new DynamoDBPersistenceLayer({ tableName, keyAttr: 'pk', sortKeyAttr: 'sk', expiryAttr: 'expiresAt', awsSdkV3Client: dynamo }),
);

/** Throws while the email cannot be sent: Lambda then retries this asynchronous event. */
export const handler = async (event: unknown, context?: Context): Promise<WelcomeEmailResult> => {
  const sub = typeof event === 'object' && event !== null ? (event as { sub?: unknown }).sub : undefined;
  logger.setCorrelationId(fingerprint(String(sub ?? '')));
  return sendWelcomeEmail(event, deps, sender, context);
};
