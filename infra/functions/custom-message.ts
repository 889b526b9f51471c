/**
 * custom-message: personalises every message Cognito sends itself; no AWS calls, so no grants.
 * Logic in functions/custom-message/, tests in tests/functions/custom-message.test.ts.
 */
import { branding, domainPolicy, type FunctionInfra } from './define.ts';

export const customMessage: FunctionInfra = {
  environment: (config) => ({ ...branding(config), ...domainPolicy(config) }),
  grants: () => [],
};
