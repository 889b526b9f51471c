/**
 * pre-sign-up: allows listed email domains and starts the sign-up reminder workflow.
 * Logic in functions/pre-sign-up/, tests in tests/functions/pre-sign-up.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { allow } from '../iam.ts';
import { domainPolicy, type FunctionInfra } from './define.ts';

export const preSignUp: FunctionInfra = {
  environment: (config, refs) => ({ ...domainPolicy(config), [ENV.reminderStateMachineArn]: refs.reminderStateMachineArn }),
  grants: (t) => [allow('StartReminderWorkflow', ['states:StartExecution'], [t.stateMachineArn])],
};
