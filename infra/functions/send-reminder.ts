/**
 * send-reminder: reminds a user who has not confirmed yet (a task of the reminder workflow).
 * Logic in functions/send-reminder/, tests in tests/functions/send-reminder.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import { allow, allowItems, IDEMPOTENCY_ITEM_ACTIONS } from '../iam.ts';
import { branding, sendEmail, sender, type FunctionInfra } from './define.ts';

export const sendReminder: FunctionInfra = {
  // The table holds its idempotency records: one reminder however often the workflow replays the task.
  environment: (config, refs) => ({ [ENV.tableName]: refs.tableName, ...branding(config), ...sender(config) }),
  grants: (t) => [allowItems('Idempotency', IDEMPOTENCY_ITEM_ACTIONS, t.tableArn, [ITEM_PREFIX.idempotency]), sendEmail(t)],
  poolGrants: (t) => [allow('ReadUser', ['cognito-idp:AdminGetUser'], [t.userPoolArn])],
};
