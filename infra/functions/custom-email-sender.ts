/**
 * custom-email-sender: decrypts Cognito's codes and emails them through SendGrid (custom-senders mode).
 * Logic in functions/custom-email-sender/, tests in tests/functions/custom-email-sender.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import { allow, allowItems, IDEMPOTENCY_ITEM_ACTIONS } from '../iam.ts';
import { branding, domainPolicy, sender, senderOnly, type FunctionInfra } from './define.ts';

export const customEmailSender: FunctionInfra = {
  environment: (config, refs) => ({
    [ENV.kmsKeyArn]: senderOnly(refs.kmsKeyArn, 'The KMS key'),
    [ENV.tableName]: refs.tableName,
    [ENV.sendgridSecretArn]: senderOnly(refs.sendgridSecretArn, 'The SendGrid secret'),
    [ENV.sendgridApiBaseUrl]: config.providers.sendgridApiBaseUrl,
    ...branding(config),
    ...sender(config),
    ...domainPolicy(config),
  }),
  grants: (t) => [
    allow('DecryptCodes', ['kms:Decrypt'], [senderOnly(t.kmsKeyArn, 'The sender key')]),
    allow('ReadProviderSecret', ['secretsmanager:GetSecretValue'], [senderOnly(t.sendgridSecretArn, 'The SendGrid secret')]),
    allowItems('Idempotency', IDEMPOTENCY_ITEM_ACTIONS, t.tableArn, [ITEM_PREFIX.idempotency]),
  ],
};
