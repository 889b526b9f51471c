/**
 * Verify-auth-challenge-response trigger: accepts a magic link's token or an emailed code once, before
 * it expires. Logic in ./logic.ts; the protocol in ../common/passwordless.ts.
 */
import type { VerifyAuthChallengeResponseTriggerEvent } from 'aws-lambda';
import { dynamoDbDocumentClient } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { ENV, readString } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { fingerprint, logger } from '../common/logger.ts';
import { verifyAnswer } from './logic.ts';

const tableName = readString(ENV.tableName);
const db = dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET);

// Every failure refuses the answer, so each one is logged, refusals included.
export const handler = lambdaHandler(
  { kind: 'sync-trigger', failure: { message: 'custom challenge could not be checked; refused', includeRefusals: true } },
  async (event: VerifyAuthChallengeResponseTriggerEvent): Promise<VerifyAuthChallengeResponseTriggerEvent> => {
    const user = fingerprint(String(event?.userName ?? ''));
    const verdict = await verifyAnswer({ db, tableName, now: Date.now }, event);
    if (verdict.correct) logger.info('custom challenge answered', { user });
    else logger.warn('custom challenge answer refused', { user, reason: verdict.reason });
    event.response = { answerCorrect: verdict.correct };
    return event;
  },
);
