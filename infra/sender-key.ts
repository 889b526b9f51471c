import { Construct } from 'constructs';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { KmsKeyPolicy } from '@cdktf/provider-aws/lib/kms-key-policy';
import type { PolicyStatement } from './iam.ts';

export interface SenderKeyProps {
  /** Alias name without the `alias/` prefix. */
  readonly alias: string;
  /** Account that administers the key. */
  readonly accountId: string;
  /** Days before a scheduled deletion happens. */
  readonly deletionWindowDays: number;
}

/** What the key policy is written for, known only after the pool and the sender roles exist. */
export interface SenderKeyGrants {
  /** The one user pool that may encrypt codes with the key. */
  readonly userPoolArn: string;
  /** The roles that may decrypt codes: the two sender functions', nobody else's. */
  readonly decrypterRoleArns: readonly string[];
}

/**
 * Key administration without use: the account can manage the key but not encrypt or decrypt with it.
 * Every action is named (AWS's default admin statement uses `kms:Create*`-style wildcards, which would
 * also cover actions added later) and `kms:CreateGrant` is left out, because a grant hands out use.
 * `kms:PutKeyPolicy` stays, so the account can never lock itself out of the key.
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion', 'kms:CreateAlias', 'kms:DeleteAlias', 'kms:DescribeKey', 'kms:DisableKey',
  'kms:DisableKeyRotation', 'kms:EnableKey', 'kms:EnableKeyRotation', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus',
  'kms:ListGrants', 'kms:ListKeyPolicies', 'kms:ListKeyRotations', 'kms:ListResourceTags', 'kms:PutKeyPolicy',
  'kms:RetireGrant', 'kms:RevokeGrant', 'kms:RotateKeyOnDemand', 'kms:ScheduleKeyDeletion', 'kms:TagResource',
  'kms:UntagResource', 'kms:UpdateAlias', 'kms:UpdateKeyDescription',
] as const;

/**
 * The symmetric key Cognito encrypts codes with before handing them to the custom senders.
 *
 * The pool needs the key's ARN and the key policy needs the pool's ARN. The key is created first with
 * KMS's default policy (account-only, IAM-delegated: not open), and the real policy is attached by a
 * separate `aws_kms_key_policy` once the pool exists (`attachPolicy`).
 */
export class SenderKey extends Construct {
  /** The key. */
  readonly key: KmsKey;
  /** `alias/<alias>`. */
  readonly alias: KmsAlias;
  /** The attached policy, once `attachPolicy` ran. */
  policy?: KmsKeyPolicy;
  private readonly accountId: string;

  constructor(scope: Construct, id: string, props: SenderKeyProps) {
    super(scope, id);
    this.accountId = props.accountId;
    this.key = new KmsKey(this, 'key', {
      description: 'Encrypts the codes Cognito hands to the custom email and SMS senders',
      keyUsage: 'ENCRYPT_DECRYPT',
      customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      enableKeyRotation: true,
      deletionWindowInDays: props.deletionWindowDays,
    });
    this.alias = new KmsAlias(this, 'alias', { name: `alias/${props.alias}`, targetKeyId: this.key.keyId });
  }

  /** Key ARN (the pool's `kms_key_id` and the senders' KMS_KEY_ARN). */
  get arn(): string {
    return this.key.arn;
  }

  /** The key policy statements for the given pool and decrypters. */
  policyStatements(grants: SenderKeyGrants): PolicyStatement[] {
    const roles = [...grants.decrypterRoleArns];
    return [
      {
        Sid: 'AccountAdministersKey',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${this.accountId}:root` },
        Action: [...KEY_ADMIN_ACTIONS],
        Resource: ['*'],
      },
      {
        // AWS's documented policy for Cognito custom senders: Cognito may encrypt, for this pool only.
        Sid: 'CognitoEncryptsCodesForThisPool',
        Effect: 'Allow',
        Principal: { Service: 'cognito-idp.amazonaws.com' },
        Action: ['kms:Encrypt'],
        Resource: ['*'],
        Condition: {
          StringEquals: { 'aws:SourceAccount': this.accountId },
          ArnLike: { 'aws:SourceArn': grants.userPoolArn },
        },
      },
      {
        Sid: 'SendersDecryptCodes',
        Effect: 'Allow',
        Principal: { AWS: roles },
        Action: ['kms:Decrypt'],
        Resource: ['*'],
      },
      {
        // An IAM policy elsewhere in the account cannot widen this: every other principal is denied.
        Sid: 'NobodyElseDecrypts',
        Effect: 'Deny',
        Principal: '*',
        Action: ['kms:Decrypt'],
        Resource: ['*'],
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': roles } },
      },
    ];
  }

  /** Attaches the key policy; call once the pool and the sender roles exist. */
  attachPolicy(grants: SenderKeyGrants): KmsKeyPolicy {
    if (this.policy) throw new Error('The sender key policy is already attached');
    this.policy = new KmsKeyPolicy(this, 'policy', {
      keyId: this.key.keyId,
      policy: JSON.stringify({ Version: '2012-10-17', Statement: this.policyStatements(grants) }),
    });
    return this.policy;
  }
}
