/**
 * post-authentication: audits each sign-in and clears the attempt counter.
 * Logic in functions/post-authentication/, tests in tests/functions/post-authentication.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import { allowItems } from '../iam.ts';
import type { FunctionInfra } from './define.ts';

export const postAuthentication: FunctionInfra = {
  environment: (config, refs) => ({ [ENV.tableName]: refs.tableName, [ENV.auditRetentionDays]: String(config.audit.retentionDays) }),
  // One statement per action and item kind (functions/post-authentication/record.ts): the dedupe marker
  // is put, the audit entry put and the profile updated (both USER#), the attempt state deleted. Nothing
  // else: it can neither delete a profile nor write a lockout counter. It reads the method
  // verify-auth-challenge-response left for a passwordless sign-in.
  grants: (t) => [
    allowItems('PinSignInTime', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.dedupe]),
    allowItems('AuditSignIn', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.user]),
    allowItems('RecordLastLogin', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.user]),
    allowItems('ClearAttemptState', ['dynamodb:DeleteItem'], t.tableArn, [ITEM_PREFIX.lockout]),
    allowItems('ReadSignInMethod', ['dynamodb:GetItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
  ],
};
