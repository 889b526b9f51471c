/**
 * pre-token-generation: removes the email claims from ID tokens; no AWS calls, so no grants.
 * Logic in functions/pre-token-generation/, tests in tests/functions/pre-token-generation.test.ts.
 */
import { domainPolicy, type FunctionInfra } from './define.ts';

export const preTokenGeneration: FunctionInfra = {
  environment: (config) => domainPolicy(config),
  grants: () => [],
};
