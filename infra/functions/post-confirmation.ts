/**
 * post-confirmation: saves the profile; the table's stream carries the welcome email on from there.
 * After a password reset it deletes the login's attempt state, and no other item.
 * Logic in functions/post-confirmation/, tests in tests/functions/post-confirmation.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import { allowItems } from '../iam.ts';
import type { FunctionInfra } from './define.ts';

export const postConfirmation: FunctionInfra = {
  environment: (_config, refs) => ({ [ENV.tableName]: refs.tableName }),
  grants: (t) => [
    allowItems('SaveProfile', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.user]),
    allowItems('ClearLockAfterReset', ['dynamodb:DeleteItem'], t.tableArn, [ITEM_PREFIX.lockout]),
  ],
};
