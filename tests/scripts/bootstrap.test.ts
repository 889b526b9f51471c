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
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { expect } from 'chai';
import {
  BootstrapError,
  bootstrapStateBucket,
  LIFECYCLE_RULE_ID,
  TLS_ONLY_SID,
  tlsOnlyStatement,
} from '../../scripts/lib/bootstrap.ts';

/** An S3 error as the SDK raises it: a name and an HTTP status. */
function s3Error(name: string, httpStatusCode: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode } });
}

const BUCKET = 'acme-tfstate';
const BLOCK_ALL = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

describe('state bucket bootstrap', () => {
  // Installed only while this suite runs, so no other suite's S3 calls meet these stubs.
  let s3: AwsClientStub<S3Client>;
  const client = new S3Client({ region: 'eu-west-1' });
  before(() => {
    s3 = mockClient(S3Client);
  });
  afterEach(() => s3.reset());
  after(() => s3.restore());

  /** A bucket that does not exist yet: every Get says "not configured". */
  function freshAccount(): void {
    s3.on(HeadBucketCommand).rejects(s3Error('NotFound', 404));
    s3.on(CreateBucketCommand).resolves({});
    s3.on(GetPublicAccessBlockCommand).rejects(s3Error('NoSuchPublicAccessBlockConfiguration', 404));
    s3.on(GetBucketVersioningCommand).resolves({});
    // S3 encrypts every new bucket with SSE-S3 by default.
    s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } });
    s3.on(GetBucketPolicyCommand).rejects(s3Error('NoSuchBucketPolicy', 404));
    s3.on(GetBucketLifecycleConfigurationCommand).rejects(s3Error('NoSuchLifecycleConfiguration', 404));
  }

  /** A bucket exactly as a previous bootstrap left it. */
  function bootstrappedAccount(extra: { policyStatements?: object[]; rules?: object[] } = {}): void {
    s3.on(HeadBucketCommand).resolves({});
    s3.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: BLOCK_ALL });
    s3.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled' });
    s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } });
    s3.on(GetBucketPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [...(extra.policyStatements ?? []), tlsOnlyStatement(BUCKET)] }) });
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({
      Rules: [
        ...((extra.rules ?? []) as never[]),
        { ID: LIFECYCLE_RULE_ID, Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 90 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
      ],
    });
  }

  it('creates the bucket with ACLs disabled, then blocks public access, enables versioning, sets a TLS-only policy and version expiry', async () => {
    freshAccount();
    const report = await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1' });
    expect(s3.commandCalls(CreateBucketCommand)[0]!.args[0].input).to.deep.equal({
      Bucket: BUCKET,
      CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      ObjectOwnership: 'BucketOwnerEnforced',
    });
    expect(s3.commandCalls(PutPublicAccessBlockCommand)[0]!.args[0].input.PublicAccessBlockConfiguration).to.deep.equal(BLOCK_ALL);
    expect(s3.commandCalls(PutBucketVersioningCommand)[0]!.args[0].input.VersioningConfiguration).to.deep.equal({ Status: 'Enabled' });
    const policy = JSON.parse(s3.commandCalls(PutBucketPolicyCommand)[0]!.args[0].input.Policy!);
    expect(policy.Statement).to.deep.equal([
      {
        Sid: TLS_ONLY_SID,
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
    const rules = s3.commandCalls(PutBucketLifecycleConfigurationCommand)[0]!.args[0].input.LifecycleConfiguration!.Rules!;
    expect(rules.map((r) => [r.ID, r.NoncurrentVersionExpiration?.NoncurrentDays])).to.deep.equal([[LIFECYCLE_RULE_ID, 90]]);
    expect(report.map((r) => `${r.result} ${r.step}`)).to.deep.equal([
      'created bucket s3://acme-tfstate (eu-west-1)',
      'created public access blocked',
      'created versioning',
      'unchanged encryption SSE-S3 (AES256)',
      'created bucket policy: TLS only',
      'created old state versions expire after 90 days',
    ]);
  });

  it('blocks public access before it writes any other setting', async () => {
    freshAccount();
    await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1' });
    const puts = s3.calls().map((c) => c.args[0].constructor.name).filter((n) => n.startsWith('Put'));
    expect(puts[0]).to.equal('PutPublicAccessBlockCommand');
  });

  it('names no location in us-east-1, where S3 refuses one', async () => {
    freshAccount();
    await bootstrapStateBucket(client, { bucket: BUCKET, region: 'us-east-1' });
    expect(s3.commandCalls(CreateBucketCommand)[0]!.args[0].input).not.to.have.property('CreateBucketConfiguration');
  });

  it('uses SSE-KMS with a bucket key when a key is given', async () => {
    freshAccount();
    await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1', kmsKeyId: 'alias/tfstate' });
    expect(s3.commandCalls(PutBucketEncryptionCommand)[0]!.args[0].input.ServerSideEncryptionConfiguration).to.deep.equal({
      Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/tfstate' }, BucketKeyEnabled: true }],
    });
  });

  it('is idempotent: a second run writes nothing and reports every setting unchanged', async () => {
    bootstrappedAccount();
    const report = await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1' });
    expect(s3.calls().map((c) => c.args[0].constructor.name).filter((n) => /^(Put|Create)/.test(n))).to.deep.equal([]);
    expect(report.every((r) => r.result === 'unchanged')).to.equal(true);
  });

  it("keeps a team's own bucket-policy statements and lifecycle rules when adding its own", async () => {
    const theirs = { Sid: 'AllowAuditRead', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:role/audit' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` };
    freshAccount();
    s3.on(GetBucketPolicyCommand).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [theirs] }) });
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({ Rules: [{ ID: 'archive', Status: 'Enabled', Filter: { Prefix: 'archive/' } }] });
    await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1' });
    const statements = JSON.parse(s3.commandCalls(PutBucketPolicyCommand)[0]!.args[0].input.Policy!).Statement;
    expect(statements.map((s: { Sid: string }) => s.Sid)).to.deep.equal(['AllowAuditRead', TLS_ONLY_SID]);
    const rules = s3.commandCalls(PutBucketLifecycleConfigurationCommand)[0]!.args[0].input.LifecycleConfiguration!.Rules!;
    expect(rules.map((r) => r.ID)).to.deep.equal(['archive', LIFECYCLE_RULE_ID]);
  });

  it('does not downgrade KMS encryption a team already set to SSE-S3', async () => {
    bootstrappedAccount();
    s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'k' } }] } });
    await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1' });
    expect(s3.commandCalls(PutBucketEncryptionCommand)).to.have.length(0);
  });

  it('turns versioning back on when it was suspended', async () => {
    bootstrappedAccount();
    s3.on(GetBucketVersioningCommand).resolves({ Status: 'Suspended' });
    const report = await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1' });
    expect(s3.commandCalls(PutBucketVersioningCommand)).to.have.length(1);
    expect(report.find((r) => r.step === 'versioning')?.result).to.equal('updated');
  });

  it('treats "already owned by you" from a racing create as success', async () => {
    freshAccount();
    s3.on(CreateBucketCommand).rejects(s3Error('BucketAlreadyOwnedByYou', 409));
    const report = await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1' });
    expect(report[0]).to.deep.equal({ step: 'bucket s3://acme-tfstate (eu-west-1)', result: 'unchanged' });
  });

  it('explains a bucket name taken by another account, and a bucket in another region', async () => {
    freshAccount();
    s3.on(CreateBucketCommand).rejects(s3Error('BucketAlreadyExists', 409));
    const taken = await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1' }).catch((e: unknown) => e);
    expect(taken).to.be.instanceOf(BootstrapError).with.property('message', 'bucket name acme-tfstate is taken by another account: choose another TF_STATE_BUCKET');

    s3.reset();
    s3.on(HeadBucketCommand).rejects(s3Error('Forbidden', 403));
    const forbidden = await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1' }).catch((e: unknown) => e);
    expect((forbidden as Error).message).to.contain('exists but this account cannot use it (403)');

    s3.reset();
    s3.on(HeadBucketCommand).rejects(s3Error('PermanentRedirect', 301));
    const moved = await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1' }).catch((e: unknown) => e);
    expect((moved as Error).message).to.equal('bucket acme-tfstate is in another region than eu-west-1: set TF_STATE_REGION to its region');
  });

  it('passes on unexpected AWS errors instead of guessing', async () => {
    freshAccount();
    s3.on(GetBucketVersioningCommand).rejects(s3Error('AccessDenied', 403));
    const error = await bootstrapStateBucket(client, { bucket: BUCKET, region: 'eu-west-1' }).catch((e: unknown) => e);
    expect((error as Error).name).to.equal('AccessDenied');
  });
});
