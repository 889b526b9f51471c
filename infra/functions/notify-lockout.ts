/**
 * notify-lockout: one email per lock to the owner of an existing account, from the table's stream.
 * Logic in functions/notify-lockout/, tests in tests/functions/notify-lockout.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import type { Config } from '../config.ts';
import { allow, allowItems, IDEMPOTENCY_ITEM_ACTIONS } from '../iam.ts';
import { branding, domainPolicy, sendEmail, sender, streamConsumer, type FunctionInfra } from './define.ts';

/** The app's password-reset page that a lock notice links to; none when the app has no URL. */
export function passwordResetUrl(config: Pick<Config, 'email' | 'lockout'>): string | undefined {
  return config.email.appUrl === '' ? undefined : `${config.email.appUrl}${config.lockout.resetPasswordPath}`;
}

export const notifyLockout: FunctionInfra = {
  environment: (config, refs) => {
    const resetUrl = passwordResetUrl(config);
    return {
      [ENV.tableName]: refs.tableName,
      ...branding(config),
      ...sender(config),
      ...domainPolicy(config),
      ...(resetUrl ? { [ENV.accountRecoveryUrl]: resetUrl } : {}),
    };
  },
  // Its event source mapping reads the stream with this role and reports what it gave up on to the queue;
  // the function tells each lock once through the idempotency records. It reads no lockout item itself:
  // the stream record holds all it needs.
  grants: (t) => [...streamConsumer(t, t.lockNoticeFailureQueueArn), allowItems('LockNoticeOnce', IDEMPOTENCY_ITEM_ACTIONS, t.tableArn, [ITEM_PREFIX.idempotency]), sendEmail(t)],
  // The owner's address is read from the pool at send time; the table never holds it.
  poolGrants: (t) => [allow('ReadLockOwner', ['cognito-idp:AdminGetUser'], [t.userPoolArn])],
};
