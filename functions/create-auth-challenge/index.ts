/**
 * Create-auth-challenge trigger: asks for the sign-in method, then emails a magic link or a 6-digit code
 * through SES with the shared templates, throttled per login. Logic in ./logic.ts and ./throttle.ts.
 */
import type { CreateAuthChallengeTriggerEvent } from 'aws-lambda';
import { dynamoDbDocumentClient, sesV2Client } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { ENV, readBranding, readPasswordless, readSenderIdentity, readString } from '../common/config.ts';
import { sendEmail } from '../common/email.ts';
import { lambdaHandler } from '../common/handler.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { renderEmail } from '../common/templates.ts';
import { createChallenge, type ChallengeDeps } from './logic.ts';

const branding = readBranding();
const from = readSenderIdentity();
const ses = sesV2Client(SYNC_TRIGGER_BUDGET);
const deps: ChallengeDeps = {
  db: dynamoDbDocumentClient(SYNC_TRIGGER_BUDGET),
  tableName: readString(ENV.tableName),
  settings: readPasswordless(),
  branding,
  policy: readDomainPolicyFromEnv(),
  send: (to, kind, c, signal) =>
    sendEmail(ses, from, to, renderEmail(kind, { branding, recipient: { ...(c.name ? { name: c.name } : {}), email: c.email }, ...(c.code ? { code: c.code } : {}), ...(c.link ? { link: c.link } : {}) }), signal),
  now: Date.now,
};

export const handler = lambdaHandler({ kind: 'sync-trigger' }, async (event: CreateAuthChallengeTriggerEvent): Promise<CreateAuthChallengeTriggerEvent> => {
  event.response = await createChallenge(deps, event);
  return event;
});
