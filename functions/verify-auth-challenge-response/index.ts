/**
 * Verify-auth-challenge-response trigger: accepts a magic link's token or an emailed code once, before
 * it expires. Logic in ./verify.ts; the protocol in ../common/passwordless.ts.
 */
import type { Context, VerifyAuthChallengeResponseTriggerEvent } from 'aws-lambda';
import { dynamoDbDocumentClient } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { ENV, readString } from '../common/config.ts';
import { errorName, toPublicError } from '../common/errors.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { verifyAnswer } from './verify.ts';

const tableName = readString(ENV.tableName);
const db = dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET);

export const handler = async (event: VerifyAuthChallengeResponseTriggerEvent, context?: Context): Promise<VerifyAuthChallengeResponseTriggerEvent> => {
  if (context) logger.addContext(context);
  const user = fingerprint(String(event?.userName ?? ''));
  try {
    const verdict = await verifyAnswer({ db, tableName, now: Date.now }, event);
    if (verdict.correct) logger.info('custom challenge answered', { user });
    else logger.warn('custom challenge answer refused', { user, reason: verdict.reason });
    event.response = { answerCorrect: verdict.correct };
  } catch (error) {
    logger.error('custom challenge could not be checked; refused', { user, error: errorName(error) });
    throw toPublicError(error);
  }
  return event;
};
