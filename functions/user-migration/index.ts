/**
 * User migration trigger: moves users lazily from the legacy Cognito pool on their first sign-in or
 * password reset. The legacy pool sits behind `LegacyDirectory`, so another directory can replace it.
 */
import type { UserMigrationTriggerEvent } from 'aws-lambda';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { clientConfig, SYNC_TRIGGER_BUDGET } from '../common/aws.ts';
import { readLegacyPool } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { cognitoLegacyDirectory } from './legacy-directory.ts';
import { migrateUser } from './migrate.ts';

const legacy = readLegacyPool();
const directory = cognitoLegacyDirectory(new CognitoIdentityProviderClient({ region: legacy.region, ...clientConfig(SYNC_TRIGGER_BUDGET) }), legacy);
const policy = readDomainPolicyFromEnv();

// The logic refuses with one generic message and logs why, so the wrapper adds no ERROR line.
export const handler = lambdaHandler({ kind: 'sync-trigger' }, (event: UserMigrationTriggerEvent): Promise<UserMigrationTriggerEvent> => migrateUser(event, { directory, policy }));
