/**
 * verify-auth-challenge-response: checks an answer against the stored hash. It marks the challenge used
 * (conditional UpdateItem) and leaves the sign-in method for the audit (PutItem), and nothing else.
 * Logic in functions/verify-auth-challenge-response/, tests in
 * tests/functions/verify-auth-challenge-response.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { ITEM_PREFIX } from '../../functions/common/table.ts';
import { allowItems } from '../iam.ts';
import type { FunctionInfra } from './define.ts';

export const verifyAuthChallengeResponse: FunctionInfra = {
  environment: (_config, refs) => ({ [ENV.tableName]: refs.tableName }),
  grants: (t) => [
    allowItems('ConsumeChallenge', ['dynamodb:UpdateItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
    allowItems('MarkSignInMethod', ['dynamodb:PutItem'], t.tableArn, [ITEM_PREFIX.passwordless]),
  ],
};
