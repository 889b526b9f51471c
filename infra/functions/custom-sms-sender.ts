/**
 * custom-sms-sender: decrypts Cognito's codes and texts them through Twilio (custom-senders mode).
 * Logic in functions/custom-sms-sender/, tests in tests/functions/custom-sms-sender.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import { allow, allowItems, IDEMPOTENCY_ITEM_ACTIONS } from '../iam.ts';
import { domainPolicy, senderOnly, type FunctionInfra } from './define.ts';

export const customSmsSender: FunctionInfra = {
  environment: (config, refs) => ({
    [ENV.kmsKeyArn]: senderOnly(refs.kmsKeyArn, 'The KMS key'),
    [ENV.tableName]: refs.tableName,
    [ENV.twilioSecretArn]: senderOnly(refs.twilioSecretArn, 'The Twilio secret'),
    [ENV.twilioApiBaseUrl]: config.providers.twilioApiBaseUrl,
    [ENV.appName]: config.email.appName,
    ...domainPolicy(config),
  }),
  grants: (t) => [
    allow('DecryptCodes', ['kms:Decrypt'], [senderOnly(t.kmsKeyArn, 'The sender key')]),
    allow('ReadProviderSecret', ['secretsmanager:GetSecretValue'], [senderOnly(t.twilioSecretArn, 'The Twilio secret')]),
    allowItems('Idempotency', IDEMPOTENCY_ITEM_ACTIONS, t.tableArn, [ITEM_PREFIX.idempotency]),
  ],
};
