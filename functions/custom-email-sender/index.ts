/**
 * Custom email sender: Cognito hands every email (codes, temporary passwords, account-takeover notices)
 * to this function, encrypted; it decrypts the code, renders the shared template and sends through SendGrid.
 */
import type { CustomEmailSenderTriggerEvent } from 'aws-lambda';
import { ENV, readArn, readBranding, readSendGrid, readSenderIdentity, readString } from '../common/config.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { lambdaHandler } from '../common/handler.ts';
import { httpPost } from '../common/providers/http.ts';
import { parseSendGridSecret, sendGridEmailSender } from '../common/providers/sendgrid.ts';
import { idempotencyStore } from '../common/idempotency.ts';
import { kmsDecryptor, providerSecret, refreshingOnRejection } from '../common/sender-runtime.ts';
import { idempotentSender, PROVIDER_TIMEOUT_MS } from '../common/sender.ts';
import { emailChannel } from './logic.ts';

const sendgrid = readSendGrid();
const secret = providerSecret(sendgrid.secretArn, parseSendGridSecret);
const sendEmail = sendGridEmailSender({ baseUrl: sendgrid.apiBaseUrl, credentials: secret.get, http: httpPost, timeoutMs: PROVIDER_TIMEOUT_MS });

const send = idempotentSender(
  {
    channel: emailChannel(readSenderIdentity(), refreshingOnRejection(secret, sendEmail), readDomainPolicyFromEnv()),
    decrypt: kmsDecryptor(readArn(ENV.kmsKeyArn)),
    branding: readBranding(),
  },
  { persistenceStore: idempotencyStore(readString(ENV.tableName)) },
);

export const handler = lambdaHandler({ kind: 'async-trigger' }, async (event: CustomEmailSenderTriggerEvent, context): Promise<void> => {
  await send(event, context);
});
