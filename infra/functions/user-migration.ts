/**
 * user-migration: moves users lazily from the legacy pool.
 * Logic in functions/user-migration/, tests in tests/functions/user-migration.test.ts.
 */
import { ENV } from '../../functions/common/config.ts';
import { allow } from '../iam.ts';
import { domainPolicy, type FunctionInfra } from './define.ts';

export const userMigration: FunctionInfra = {
  environment: (config, refs) => ({
    ...domainPolicy(config),
    [ENV.legacyUserPoolId]: refs.legacy.userPoolId,
    [ENV.legacyClientId]: refs.legacy.clientId,
    [ENV.legacyRegion]: refs.legacy.region,
  }),
  grants: (t) => [allow('ReadLegacyPool', ['cognito-idp:AdminInitiateAuth', 'cognito-idp:AdminGetUser'], [t.legacyUserPoolArn])],
};
