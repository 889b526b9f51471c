import { Construct } from 'constructs';
import { CognitoUserPool } from '@cdktf/provider-aws/lib/cognito-user-pool';
import { CognitoUserPoolClient } from '@cdktf/provider-aws/lib/cognito-user-pool-client';
import { PASSWORD_RULES } from './user-pool.ts';
import type { Config } from './config.ts';

export interface LegacyPoolProps {
  /** Create a stand-in legacy pool and client; false reads an existing pool from `existing`. */
  readonly create: boolean;
  /** Name of the created pool. */
  readonly name: string;
  /** Protect the created pool from deletion. */
  readonly deletionProtection: boolean;
  /** The existing legacy pool, used when `create` is false. */
  readonly existing: { readonly userPoolId: string; readonly clientId: string; readonly region: string };
  /** Account of an existing pool, to build its ARN without asking AWS. */
  readonly accountId: string;
}

/**
 * The provider user migration reads from: a created pool with an admin-auth client (as in the original
 * design), or an existing one named in config.
 */
export class LegacyPool extends Construct {
  /** Pool id. */
  readonly userPoolId: string;
  /** App client id that allows ADMIN_USER_PASSWORD_AUTH. */
  readonly clientId: string;
  /** Pool ARN, the resource of the migration function's grants. */
  readonly userPoolArn: string;
  /** Region of the pool. */
  readonly region: string;
  /** The created pool, when `create` is true. */
  readonly pool?: CognitoUserPool;

  constructor(scope: Construct, id: string, props: LegacyPoolProps) {
    super(scope, id);
    this.region = props.existing.region;
    if (!props.create) {
      this.userPoolId = props.existing.userPoolId;
      this.clientId = props.existing.clientId;
      this.userPoolArn = `arn:aws:cognito-idp:${props.existing.region}:${props.accountId}:userpool/${props.existing.userPoolId}`;
      return;
    }
    this.pool = new CognitoUserPool(this, 'pool', {
      name: props.name,
      usernameAttributes: ['email'],
      usernameConfiguration: { caseSensitive: false },
      deletionProtection: props.deletionProtection ? 'ACTIVE' : 'INACTIVE',
      adminCreateUserConfig: { allowAdminCreateUserOnly: true },
      passwordPolicy: { ...PASSWORD_RULES },
      accountRecoverySetting: { recoveryMechanism: [{ name: 'verified_email', priority: 1 }] },
    });
    const client = new CognitoUserPoolClient(this, 'client', {
      name: `${props.name}-migration`,
      userPoolId: this.pool.id,
      generateSecret: false,
      // User migration signs users in server-side with AdminInitiateAuth.
      explicitAuthFlows: ['ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      preventUserExistenceErrors: 'ENABLED',
    });
    this.userPoolId = this.pool.id;
    this.clientId = client.id;
    this.userPoolArn = this.pool.arn;
  }
}

/** The region of the legacy pool: configured, else the pool id's own, else the stack's. */
export function legacyRegion(config: Config): string {
  if (config.legacyPool.create) return config.region;
  return config.legacyPool.region || config.legacyPool.userPoolId.split('_')[0] || config.region;
}
