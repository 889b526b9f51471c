/**
 * send-welcome-email: one welcome email per new profile on the table's stream.
 * Logic in functions/send-welcome-email/, tests in tests/functions/send-welcome-email.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import { allowItems, IDEMPOTENCY_ITEM_ACTIONS } from '../iam.ts';
import { branding, sendEmail, sender, streamConsumer, type FunctionInfra } from './define.ts';

export const sendWelcomeEmail: FunctionInfra = {
  environment: (config, refs) => ({ [ENV.tableName]: refs.tableName, ...branding(config), ...sender(config) }),
  // Its event source mapping reads the stream with this role and reports what it gave up on to the queue;
  // the function sends once through the idempotency records and marks the profile SENT.
  grants: (t) => [
    ...streamConsumer(t, t.welcomeFailureQueueArn),
    allowItems('WelcomeOnce', IDEMPOTENCY_ITEM_ACTIONS, t.tableArn, [ITEM_PREFIX.idempotency]),
    allowItems('MarkProfileSent', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.user]),
    sendEmail(t),
  ],
};
