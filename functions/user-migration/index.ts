/**
 * User migration trigger: moves users lazily from the legacy Cognito pool on their first sign-in or
 * password reset. The legacy pool sits behind `LegacyDirectory`, so another directory can replace it.
 */
import type { UserMigrationTriggerEvent } from 'aws-lambda';
import { cognitoUserPoolsClient } from '../common/aws-clients.ts';
import { SYNC_TRIGGER_BUDGET } from '../common/budgets.ts';
import { readLegacyPool } from '../common/config.ts';
import { lambdaHandler } from '../common/handler.ts';
import { readDomainPolicyFromEnv } from '../common/identity.ts';
import { cognitoLegacyDirectory } from './legacy-directory.ts';
import { migrateUser } from './logic.ts';

const legacy = readLegacyPool();
const directory = cognitoLegacyDirectory(cognitoUserPoolsClient(SYNC_TRIGGER_BUDGET, legacy.region), legacy);
const policy = readDomainPolicyFromEnv();

// The logic refuses with one generic message and logs why, so the wrapper adds no ERROR line.
export const handler = lambdaHandler({ kind: 'sync-trigger' }, (event: UserMigrationTriggerEvent): Promise<UserMigrationTriggerEvent> => migrateUser(event, { directory, policy }));
