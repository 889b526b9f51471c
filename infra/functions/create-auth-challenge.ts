/**
 * create-auth-challenge: issues a magic link or a code and mails it. It counts messages (UpdateItem on
 * the throttle), stores a challenge's hash (PutItem) and reads it back to re-present it after a wrong
 * answer (GetItem); nothing else in the table, and mail only as the sender.
 * Logic in functions/create-auth-challenge/, tests in tests/functions/create-auth-challenge.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import { allowItems } from '../iam.ts';
import { branding, domainPolicy, sendEmail, sender, type FunctionInfra } from './define.ts';

export const createAuthChallenge: FunctionInfra = {
  environment: (config, refs) => ({
    [ENV.tableName]: refs.tableName,
    ...branding(config),
    ...sender(config),
    ...domainPolicy(config),
    [ENV.passwordlessLinkUrl]: `${config.email.appUrl}${config.passwordless.linkPath}`,
    [ENV.passwordlessValiditySeconds]: String(config.passwordless.validityMinutes * 60),
    [ENV.passwordlessMinIntervalSeconds]: String(config.passwordless.minIntervalSeconds),
    [ENV.passwordlessMaxPerHour]: String(config.passwordless.maxPerHour),
  }),
  grants: (t) => [
    allowItems('ThrottleMessages', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
    allowItems('StoreChallengeHash', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
    allowItems('ReadChallengeHash', ['dynamodb:GetItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
    sendEmail(t),
  ],
};
