/**
 * pre-authentication: counts sign-in attempts and locks out after too many (docs/lockout.md).
 * Logic in functions/pre-authentication/, tests in tests/functions/pre-authentication.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import { allowItems } from '../iam.ts';
import type { FunctionInfra } from './define.ts';

export const preAuthentication: FunctionInfra = {
  environment: (config, refs) => ({
    [ENV.tableName]: refs.tableName,
    [ENV.lockoutMaxAttempts]: String(config.lockout.maxAttempts),
    [ENV.lockoutWindowSeconds]: String(config.lockout.windowSeconds),
    [ENV.lockoutDurationSeconds]: String(config.lockout.lockSeconds),
    [ENV.lockoutEscalation]: String(config.lockout.escalate),
    [ENV.lockoutMaxDurationSeconds]: String(config.lockout.maxLockSeconds),
    [ENV.lockoutFailMode]: config.lockout.failMode,
    // Only when on, so the plans of pools without the check stay as they were.
    ...(config.lockout.quickLogin.mode === 'off'
      ? {}
      : { [ENV.lockoutQuickLoginMode]: config.lockout.quickLogin.mode, [ENV.lockoutQuickLoginIntervalMs]: String(config.lockout.quickLogin.minIntervalMilliseconds) }),
  }),
  grants: (t) => [allowItems('CountAttempts', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.lockout])],
};
