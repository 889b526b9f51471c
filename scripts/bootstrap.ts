/**
 * One-time setup of an AWS account for this project.
 *
 *   node --import tsx scripts/bootstrap.ts            create or check the Terraform state bucket (TF_STATE_BUCKET)
 *   node --import tsx scripts/bootstrap.ts policies   write the IAM policies of deploy/ with this account's values
 *                                                     to cdktf.out/iam/ (GITHUB_REPOSITORY=owner/repo for the trust policies)
 *
 * Settings: TF_STATE_BUCKET (required), TF_STATE_REGION (default: the configured region), TF_STATE_KEY,
 * TF_STATE_KMS_KEY_ID (SSE-KMS with that key; default SSE-S3), ENV, and AWS credentials for the first form.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { remoteStateFromEnv } from '../infra/backend.ts';
import { ConfigValidationError, loadConfig, stackName } from '../infra/config.ts';
import { checkAwsCredentials } from './lib/aws-credentials.ts';
import { BootstrapError, bootstrapStateBucket, renderPolicy, type PolicyValues } from './lib/bootstrap.ts';
import { isMain } from './lib/cli.ts';

const root = path.resolve(import.meta.dirname, '..');

function fail(message: string): never {
  console.error(`bootstrap: ${message}`);
  process.exit(1);
}

async function main(command: string | undefined): Promise<void> {
  const env = process.env;
  const config = loadConfig();
  const stack = stackName(config);
  const remote = remoteStateFromEnv(env, { stackName: stack, region: config.region });
  if (!remote) fail(`set TF_STATE_BUCKET to a new, globally unique bucket name, for example TF_STATE_BUCKET=${stack.replace(/-[^-]+$/, '')}-tfstate-${config.awsAccountId}`);

  if (command === 'policies') {
    const values: PolicyValues = {
      AccountId: config.awsAccountId,
      Region: config.region,
      Environment: config.environment,
      StateBucket: remote.bucket,
      StateKey: remote.key,
      ...(env.GITHUB_REPOSITORY ? { GitHubRepository: env.GITHUB_REPOSITORY } : {}),
    };
    const out = path.join(root, 'cdktf.out', 'iam');
    mkdirSync(out, { recursive: true });
    for (const file of readdirSync(path.join(root, 'deploy')).filter((f) => f.endsWith('.json')).sort()) {
      const template = readFileSync(path.join(root, 'deploy', file), 'utf8');
      if (template.includes('${GitHubRepository}') && !values.GitHubRepository) {
        console.log(`skipped ${file}: set GITHUB_REPOSITORY=owner/repo to render it`);
        continue;
      }
      writeFileSync(path.join(out, file), renderPolicy(template, values));
      console.log(`wrote ${path.relative(root, path.join(out, file))}`);
    }
    return;
  }
  if (command !== undefined) fail(`unknown command ${command}: use no argument (create the state bucket) or \`policies\``);

  const creds = checkAwsCredentials({ env, homedir: os.homedir(), readFile: (f) => (existsSync(f) ? readFileSync(f, 'utf8') : undefined) });
  if (!creds.ok) fail(creds.message);
  console.log(`Bootstrapping s3://${remote.bucket} in ${remote.region} with ${creds.source}`);
  const kmsKeyId = env.TF_STATE_KMS_KEY_ID?.trim() || undefined;
  const report = await bootstrapStateBucket(new S3Client({ region: remote.region }), { bucket: remote.bucket, region: remote.region, ...(kmsKeyId ? { kmsKeyId } : {}) });
  for (const { step, result } of report) console.log(`  ${result.padEnd(9)} ${step}`);
  console.log(`\nState bucket ready. Use it with:\n  export TF_STATE_BUCKET=${remote.bucket} TF_STATE_REGION=${remote.region}\n  make plan ENV=${config.environment}`);
  console.log('IAM policies for the deploy and plan roles: node --import tsx scripts/bootstrap.ts policies (see docs/deploying.md)');
}

if (isMain(import.meta.url)) {
  try {
    await main(process.argv[2]);
  } catch (error) {
    if (error instanceof BootstrapError || error instanceof ConfigValidationError) fail(error.message);
    fail(`${(error as Error).name}: ${(error as Error).message}`);
  }
}
