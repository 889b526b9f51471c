/**
 * define-auth-challenge: decides the next step of a passwordless sign-in from the event alone, so it
 * has no variables and no grants. Logic in functions/define-auth-challenge/, tests in
 * tests/functions/define-auth-challenge.test.ts.
 */
import type { FunctionInfra } from './define.ts';

export const defineAuthChallenge: FunctionInfra = {
  environment: () => ({}),
  grants: () => [],
};
