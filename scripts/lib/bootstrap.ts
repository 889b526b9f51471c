/**
 * One-time creation of the S3 bucket that holds Terraform state, and rendering of the IAM policies in
 * deploy/. Idempotent: a second run finds everything in place and changes nothing; settings a team added
 * (other bucket-policy statements, other lifecycle rules, a stronger encryption key) are kept.
 */
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type LifecycleRule,
  type S3Client,
  type ServerSideEncryptionByDefault,
} from '@aws-sdk/client-s3';

/** What the bootstrap needs from S3; tests pass aws-sdk-client-mock's client. */
export type S3Like = Pick<S3Client, 'send'>;

/** Settings of the state bucket. */
export interface StateBucketOptions {
  /** Globally unique bucket name (TF_STATE_BUCKET). */
  readonly bucket: string;
  /** Region to create it in (TF_STATE_REGION, else the configured region). */
  readonly region: string;
  /** A customer managed KMS key for SSE-KMS; without it, SSE-S3 (AES256, no key cost). */
  readonly kmsKeyId?: string;
  /** Days an overwritten state version is kept, to roll back a bad apply. */
  readonly noncurrentVersionDays?: number;
}

/** What happened to each setting. */
export type StepResult = 'created' | 'updated' | 'unchanged';

/** One line per setting, in the order applied. */
export type BootstrapReport = { step: string; result: StepResult }[];

/** A refusal with a message that says what to do. */
export class BootstrapError extends Error {
  override readonly name = 'BootstrapError';
}

/** The bucket-policy statement id this project owns; other statements are left alone. */
export const TLS_ONLY_SID = 'DenyInsecureTransport';
/** The lifecycle rule id this project owns. */
export const LIFECYCLE_RULE_ID = 'expire-old-state-versions';

interface AwsError {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function errorName(error: unknown): string {
  const e = error as AwsError;
  return e.name ?? e.Code ?? '';
}

function status(error: unknown): number | undefined {
  return (error as AwsError).$metadata?.httpStatusCode;
}

/** The TLS-only statement: every request over plain HTTP is denied, whoever makes it. */
export function tlsOnlyStatement(bucket: string): Record<string, unknown> {
  return {
    Sid: TLS_ONLY_SID,
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}

/** Creates the bucket when missing, then converges versioning, encryption, public access, TLS-only policy and version expiry. */
export async function bootstrapStateBucket(s3: S3Like, options: StateBucketOptions): Promise<BootstrapReport> {
  const { bucket, region } = options;
  const report: BootstrapReport = [];

  let exists = true;
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const code = status(error);
    if (code === 404 || errorName(error) === 'NotFound' || errorName(error) === 'NoSuchBucket') exists = false;
    else if (code === 403) throw new BootstrapError(`bucket ${bucket} exists but this account cannot use it (403): bucket names are global, so choose another TF_STATE_BUCKET`);
    else if (code === 301) throw new BootstrapError(`bucket ${bucket} is in another region than ${region}: set TF_STATE_REGION to its region`);
    else throw error;
  }
  if (!exists) {
    try {
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          // us-east-1 is the default location and must not be named.
          ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
          ObjectOwnership: 'BucketOwnerEnforced',
        }),
      );
      report.push({ step: `bucket s3://${bucket} (${region})`, result: 'created' });
    } catch (error) {
      if (errorName(error) === 'BucketAlreadyExists') throw new BootstrapError(`bucket name ${bucket} is taken by another account: choose another TF_STATE_BUCKET`);
      if (errorName(error) !== 'BucketAlreadyOwnedByYou') throw error;
      exists = true;
    }
  }
  if (exists) report.push({ step: `bucket s3://${bucket} (${region})`, result: 'unchanged' });

  // Public access first, so the bucket is never open while the rest is set up.
  const block = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  let currentBlock: Record<string, boolean | undefined> | undefined;
  try {
    currentBlock = { ...(await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration };
  } catch (error) {
    if (errorName(error) !== 'NoSuchPublicAccessBlockConfiguration') throw error;
  }
  if (currentBlock && Object.entries(block).every(([k, v]) => currentBlock[k] === v)) report.push({ step: 'public access blocked', result: 'unchanged' });
  else {
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: block }));
    report.push({ step: 'public access blocked', result: currentBlock ? 'updated' : 'created' });
  }

  const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  if (versioning.Status === 'Enabled') report.push({ step: 'versioning', result: 'unchanged' });
  else {
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    report.push({ step: 'versioning', result: versioning.Status ? 'updated' : 'created' });
  }

  report.push({ step: options.kmsKeyId ? `encryption SSE-KMS (${options.kmsKeyId})` : 'encryption SSE-S3 (AES256)', result: await ensureEncryption(s3, bucket, options.kmsKeyId) });
  report.push({ step: 'bucket policy: TLS only', result: await ensureTlsOnlyPolicy(s3, bucket) });
  const days = options.noncurrentVersionDays ?? 90;
  report.push({ step: `old state versions expire after ${days} days`, result: await ensureLifecycle(s3, bucket, days) });
  return report;
}

async function ensureEncryption(s3: S3Like, bucket: string, kmsKeyId: string | undefined): Promise<StepResult> {
  const wanted: ServerSideEncryptionByDefault = kmsKeyId ? { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: kmsKeyId } : { SSEAlgorithm: 'AES256' };
  let current: ServerSideEncryptionByDefault | undefined;
  try {
    const got = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    current = got.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
  } catch (error) {
    if (errorName(error) !== 'ServerSideEncryptionConfigurationNotFoundError') throw error;
  }
  const same = current?.SSEAlgorithm === wanted.SSEAlgorithm && (current?.KMSMasterKeyID ?? undefined) === wanted.KMSMasterKeyID;
  // Without a key asked for, any KMS encryption a team already set is at least as strong: keep it.
  const strongerAlready = !kmsKeyId && (current?.SSEAlgorithm === 'aws:kms' || current?.SSEAlgorithm === 'aws:kms:dsse');
  if (same || strongerAlready) return 'unchanged';
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: wanted, BucketKeyEnabled: kmsKeyId !== undefined }] },
    }),
  );
  return current ? 'updated' : 'created';
}

async function ensureTlsOnlyPolicy(s3: S3Like, bucket: string): Promise<StepResult> {
  let policy: { Version?: string; Statement?: Record<string, unknown>[] } | undefined;
  try {
    const got = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    policy = got.Policy ? (JSON.parse(got.Policy) as typeof policy) : undefined;
  } catch (error) {
    if (errorName(error) !== 'NoSuchBucketPolicy') throw error;
  }
  const ours = tlsOnlyStatement(bucket);
  const others = (policy?.Statement ?? []).filter((s) => s.Sid !== TLS_ONLY_SID);
  const existing = (policy?.Statement ?? []).find((s) => s.Sid === TLS_ONLY_SID);
  if (existing && JSON.stringify(existing) === JSON.stringify(ours)) return 'unchanged';
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [...others, ours] }) }));
  return policy ? 'updated' : 'created';
}

async function ensureLifecycle(s3: S3Like, bucket: string, days: number): Promise<StepResult> {
  let rules: LifecycleRule[] = [];
  let had = false;
  try {
    rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
    had = true;
  } catch (error) {
    if (errorName(error) !== 'NoSuchLifecycleConfiguration') throw error;
  }
  const ours: LifecycleRule = {
    ID: LIFECYCLE_RULE_ID,
    Status: 'Enabled',
    Filter: { Prefix: '' },
    NoncurrentVersionExpiration: { NoncurrentDays: days },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
  };
  const existing = rules.find((r) => r.ID === LIFECYCLE_RULE_ID);
  if (
    existing?.Status === 'Enabled' &&
    existing.NoncurrentVersionExpiration?.NoncurrentDays === days &&
    existing.AbortIncompleteMultipartUpload?.DaysAfterInitiation === 7
  ) {
    return 'unchanged';
  }
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: [...rules.filter((r) => r.ID !== LIFECYCLE_RULE_ID), ours] } }),
  );
  return had ? 'updated' : 'created';
}

/** Values for the `${...}` placeholders of the policies in deploy/. */
export interface PolicyValues {
  AccountId: string;
  Region: string;
  Environment: string;
  StateBucket: string;
  StateKey: string;
  GitHubRepository?: string;
}

/** Fills the placeholders of a policy template; throws naming any placeholder left without a value. */
export function renderPolicy(template: string, values: PolicyValues): string {
  const missing = new Set<string>();
  const out = template.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const v = (values as unknown as Record<string, string | undefined>)[name];
    if (v === undefined || v === '') {
      missing.add(name);
      return '';
    }
    return v;
  });
  if (missing.size) throw new BootstrapError(`no value for ${[...missing].join(', ')} in the policy template`);
  JSON.parse(out);
  return out;
}
