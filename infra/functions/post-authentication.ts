/**
 * post-authentication: audits each sign-in and clears the attempt counter.
 * Logic in functions/post-authentication/, tests in tests/functions/post-authentication.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import { allowItems } from '../iam.ts';
import type { FunctionInfra } from './define.ts';

export const postAuthentication: FunctionInfra = {
  environment: (config, refs) => ({
    [ENV.tableName]: refs.tableName,
    [ENV.auditRetentionDays]: String(config.audit.retentionDays),
    ...(config.passwordless.enabled ? { [ENV.signInMethodMarkers]: 'true' } : {}),
  }),
  // One statement per action and item kind (functions/post-authentication/record.ts): the dedupe marker
  // is put, the audit entry put and the profile updated (both USER#), the attempt state deleted. Nothing
  // else: it can neither delete a profile nor write a lockout counter. With passwordless sign-in, and
  // only then, it reads the method verify-auth-challenge-response left.
  grants: (t, config) => [
    allowItems('PinSignInTime', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.dedupe]),
    allowItems('AuditSignIn', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.user]),
    allowItems('RecordLastLogin', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.user]),
    allowItems('ClearAttemptState', ['dynamodb:DeleteItem'], t.tableArn, [ITEM_PREFIX.lockout]),
    ...(config.passwordless.enabled ? [allowItems('ReadSignInMethod', ['dynamodb:GetItem'], t.tableArn, [ITEM_PREFIX.passwordless])] : []),
  ],
};
