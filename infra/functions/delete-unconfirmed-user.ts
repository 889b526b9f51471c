/**
 * delete-unconfirmed-user: deletes a user who never confirmed and says so (a task of the reminder workflow).
 * Logic in functions/delete-unconfirmed-user/, tests in tests/functions/delete-unconfirmed-user.test.ts.
 */
import { allow } from '../iam.ts';
import { branding, sendEmail, sender, type FunctionInfra } from './define.ts';

export const deleteUnconfirmedUser: FunctionInfra = {
  environment: (config) => ({ ...branding(config), ...sender(config) }),
  grants: (t) => [sendEmail(t)],
  poolGrants: (t) => [allow('DeleteUnconfirmedUser', ['cognito-idp:AdminGetUser', 'cognito-idp:AdminDeleteUser'], [t.userPoolArn])],
};
