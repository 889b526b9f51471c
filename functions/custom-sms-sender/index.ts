/**
 * Custom SMS sender: Cognito hands every text message to this function with the code encrypted; it
 * decrypts the code, renders the shared template and sends through Twilio.
 */
import type { CustomSMSSenderTriggerEvent } from 'aws-lambda';
import { ENV, readArn, readBranding, readString, readTwilio } from '../common/config.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { lambdaHandler } from '../common/handler.ts';
import { httpPost } from '../common/providers/http.ts';
import { parseTwilioSecret, twilioSmsSender } from '../common/providers/twilio.ts';
import { idempotencyStore } from '../common/idempotency.ts';
import { kmsDecryptor, providerSecret, refreshingOnRejection } from '../common/sender-runtime.ts';
import { idempotentSender, PROVIDER_TIMEOUT_MS } from '../common/sender.ts';
import { smsChannel } from './logic.ts';

const twilio = readTwilio();
const secret = providerSecret(twilio.secretArn, parseTwilioSecret);
const sendSms = twilioSmsSender({ baseUrl: twilio.apiBaseUrl, credentials: secret.get, http: httpPost, timeoutMs: PROVIDER_TIMEOUT_MS });

const send = idempotentSender(
  {
    channel: smsChannel(refreshingOnRejection(secret, sendSms), readDomainPolicyFromEnv()),
    decrypt: kmsDecryptor(readArn(ENV.kmsKeyArn)),
    branding: readBranding(),
  },
  { persistenceStore: idempotencyStore(readString(ENV.tableName)) },
);

export const handler = lambdaHandler({ kind: 'async-trigger' }, async (event: CustomSMSSenderTriggerEvent, context): Promise<void> => {
  await send(event, context);
});
