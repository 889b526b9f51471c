import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../../infra/config.ts';
import { checkAwsCredentials, iniSections } from '../../scripts/lib/aws-credentials.ts';
import {
  applyArgs,
  DeployError,
  planArgs,
  runCommand,
  stateAddresses,
  synthBackend,
  type Command,
  type DeployDeps,
  type RunResult,
} from '../../scripts/lib/deploy.ts';

const ROOT = '/project';
const ACCOUNT = '111122223333';
const updatePlan = readFileSync(path.resolve(import.meta.dirname, '../fixtures/plans/update.json'), 'utf8');
const replacePlan = readFileSync(path.resolve(import.meta.dirname, '../fixtures/plans/replace.json'), 'utf8');
const emptyPlan = JSON.stringify({ format_version: '1.2', terraform_version: '1.11.4', resource_changes: [] });

function configFor(envName: string, overrides: Record<string, unknown> = {}): Config {
  return loadConfig({ env: { ENV: envName }, overrides: { awsAccountId: ACCOUNT, ...overrides } });
}

function s3Backend(key = 'cognito-triggers-dev/terraform.tfstate', lock = true): object {
  return { terraform: { backend: { s3: { bucket: 'acme-tfstate', key, region: 'us-east-1', encrypt: true, ...(lock ? { use_lockfile: true } : {}) } } } };
}

const localBackend = { terraform: { backend: { local: { path: 'terraform.cognito-triggers-dev.tfstate' } } } };

interface Call {
  command: string;
  args: readonly string[];
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** A fake world: files, a Terraform that answers from a script, a prompt with a scripted answer. */
function world(options: {
  env?: Record<string, string>;
  config?: Config;
  tfJson?: object | null;
  files?: Record<string, string>;
  interactive?: boolean;
  answer?: string;
  planExit?: number;
  planJson?: string;
  stateList?: string;
  failOn?: string;
}) {
  const calls: Call[] = [];
  const logs: string[] = [];
  const written: Record<string, string> = {};
  const questions: string[] = [];
  const config = options.config ?? configFor('dev');
  const stackDir = `${ROOT}/cdktf.out/stacks/cognito-triggers-${config.environment}`;
  const files: Record<string, string> = {
    '/home/me/.aws/config': '[default]\nregion = us-east-1\n\n[profile deployer]\nsso_session = acme\n',
    ...(options.tfJson === null ? {} : { [`${stackDir}/cdk.tf.json`]: JSON.stringify(options.tfJson ?? s3Backend(`cognito-triggers-${config.environment}/terraform.tfstate`)) }),
    ...options.files,
  };
  const env = { ENV: config.environment, TF_STATE_BUCKET: 'acme-tfstate', AWS_PROFILE: 'deployer', ...options.env };
  const deps: DeployDeps = {
    env,
    root: ROOT,
    homedir: '/home/me',
    loadConfig: () => config,
    terraformEnv: () => ({ TF_CLI_CONFIG_FILE: '/project/.build/terraform/terraform.rc', AWS_EC2_METADATA_DISABLED: 'true', PATH: '/usr/bin' }),
    run: async (command, args, { cwd, env: runEnv }): Promise<RunResult> => {
      calls.push({ command, args, cwd, env: runEnv });
      const sub = args[0]!;
      if (options.failOn === sub) return { code: 1, stdout: '' };
      if (sub === 'plan') return { code: options.planExit ?? 2, stdout: '' };
      if (sub === 'show' && args[1] === '-json') return { code: 0, stdout: options.planJson ?? updatePlan };
      if (sub === 'show') return { code: 0, stdout: '  ~ resource "aws_x" "y" {}\n' };
      if (sub === 'state') return { code: 0, stdout: options.stateList ?? '' };
      return { code: 0, stdout: '' };
    },
    ask: async (q) => {
      questions.push(q);
      return options.answer ?? '';
    },
    interactive: options.interactive ?? true,
    readFile: (f) => files[f],
    writeFile: (f, t) => {
      written[f] = t;
    },
    log: (l) => logs.push(l),
  };
  const tf = (): string[] => calls.filter((c) => c.command === 'terraform').map((c) => c.args.join(' '));
  return { deps, calls, logs, written, questions, tf, stackDir };
}

async function refusal(command: Command, deps: DeployDeps): Promise<string> {
  try {
    await runCommand(command, deps);
  } catch (error) {
    expect(error).to.be.instanceOf(DeployError);
    return (error as Error).message;
  }
  throw new Error(`${command} did not refuse`);
}

describe('deploy script', () => {
  describe('refusals (one line, saying what to do, before any Terraform runs)', () => {
    it('refuses without remote state settings and names TF_STATE_BUCKET, make bootstrap and the opt-out', async () => {
      const w = world({ env: { TF_STATE_BUCKET: '' }, tfJson: localBackend });
      const msg = await refusal('deploy', w.deps);
      expect(msg).to.equal(
        'ENV=dev has no remote state: set TF_STATE_BUCKET (create the bucket once with `make bootstrap`), or ALLOW_LOCAL_STATE=1 for a throwaway deployment whose state stays in cdktf.out/ (lost by `make clean`)',
      );
      expect(msg).not.to.contain('\n');
      expect(w.calls).to.deep.equal([]);
    });

    it('refuses without AWS credentials and says where to get them', async () => {
      const w = world({ env: { AWS_PROFILE: '' }, files: { '/home/me/.aws/config': '' } });
      expect(await refusal('plan', w.deps)).to.match(/^ENV=dev: no AWS credentials found: set AWS_PROFILE \(after `aws sso login`\)/);
      expect(w.calls).to.deep.equal([]);
    });

    it('refuses a profile that is not configured, naming it', async () => {
      const w = world({ env: { AWS_PROFILE: 'typo' } });
      expect(await refusal('plan', w.deps)).to.contain('AWS_PROFILE=typo is not in /home/me/.aws/config or /home/me/.aws/credentials');
    });

    it('refuses to destroy an environment whose config sets deletionProtection, even with AUTO_APPROVE', async () => {
      const w = world({ config: configFor('prod'), env: { AUTO_APPROVE: '1' } });
      const msg = await refusal('destroy', w.deps);
      expect(msg).to.match(/^ENV=prod sets deletionProtection, so make destroy refuses: set "deletionProtection": false in config\/prod\.json \(or CT_DELETION_PROTECTION=false\)/);
      expect(w.calls).to.deep.equal([]);
    });

    it('refuses the placeholder account id of the offline plan', async () => {
      const w = world({ config: loadConfig({ env: { ENV: 'dev' } }) });
      expect(await refusal('deploy', w.deps)).to.equal('awsAccountId is the placeholder 123456789012: set your account id in config/dev.json or CT_AWS_ACCOUNT_ID');
    });

    it('refuses when the stack has not been synthesized', async () => {
      const w = world({ tfJson: null });
      expect(await refusal('plan', w.deps)).to.equal('cdktf.out/stacks/cognito-triggers-dev/cdk.tf.json is missing: run `make synth ENV=dev` first');
    });

    it('refuses when the synthesized backend does not match TF_STATE_* (stale synth)', async () => {
      expect(await refusal('plan', world({ tfJson: localBackend }).deps)).to.contain('TF_STATE_BUCKET=acme-tfstate is set but the synthesized stack uses local state');
      expect(await refusal('plan', world({ env: { TF_STATE_BUCKET: '' } }).deps)).to.contain('TF_STATE_BUCKET is not set');
      expect(await refusal('plan', world({ env: { TF_STATE_KEY: 'other/key' } }).deps)).to.contain('the synthesized state key is cognito-triggers-dev/terraform.tfstate but TF_STATE_* says other/key');
      expect(await refusal('plan', world({ tfJson: s3Backend(undefined, false) }).deps)).to.contain('has no use_lockfile');
    });

    it('refuses a stack synthesized for another account than the configuration names', async () => {
      const w = world({ tfJson: { ...s3Backend(), provider: { aws: [{ allowed_account_ids: ['999999999999'] }] } } });
      expect(await refusal('plan', w.deps)).to.equal(
        `cdktf.out was synthesized for account 999999999999 but the configuration says ${ACCOUNT}: run \`make synth ENV=dev\` with the same settings`,
      );
      expect(w.calls).to.deep.equal([]);
    });

    it('refuses to deploy without a terminal unless AUTO_APPROVE=1, after showing the plan', async () => {
      const w = world({ interactive: false });
      expect(await refusal('deploy', w.deps)).to.equal('there is no terminal to ask for confirmation: review the plan above, then run again with AUTO_APPROVE=1');
      expect(w.tf().some((a) => a.startsWith('apply'))).to.equal(false);
      expect(w.tf().some((a) => a.startsWith('plan'))).to.equal(true);
    });

    it('stops with a clear message when terraform plan fails', async () => {
      const w = world({ failOn: 'plan' });
      expect(await refusal('plan', w.deps)).to.equal('terraform plan failed for ENV=dev (exit 1); its error is above');
    });
  });

  describe('plan', () => {
    it('inits with the S3 backend, plans in the stack directory with the project CLI config, and writes JSON, text and the PR comment', async () => {
      const w = world({ env: { PLAN_COMMENT_FILE: 'comment.md', GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '7' } });
      await runCommand('plan', w.deps);
      expect(w.tf()).to.deep.equal([
        'init -input=false -no-color',
        'plan -input=false -lock-timeout=120s -detailed-exitcode -out=tfplan',
        'show -json tfplan',
        'show -no-color tfplan',
      ]);
      for (const c of w.calls) {
        expect(c.cwd).to.equal(w.stackDir);
        expect(c.env.TF_CLI_CONFIG_FILE).to.equal('/project/.build/terraform/terraform.rc');
        // Instance roles need the metadata service the offline checks switch off.
        expect(c.env).not.to.have.property('AWS_EC2_METADATA_DISABLED');
      }
      expect(Object.keys(w.written)).to.have.members([
        '/project/cdktf.out/cognito-triggers-dev.plan.json',
        '/project/cdktf.out/cognito-triggers-dev.plan.txt',
        '/project/comment.md',
      ]);
      expect(w.written['/project/comment.md']).to.contain('<!-- cognito-triggers-plan:dev -->');
      expect(w.written['/project/comment.md']).to.contain('[Workflow run](https://github.com/o/r/actions/runs/7)');
      expect(w.logs).to.include('Plan for ENV=dev: 0 to add, 2 to change, 0 to destroy.');
      expect(w.logs[0]).to.equal(
        `ENV=dev -> cognito-triggers-dev in account ${ACCOUNT}, us-east-1; credentials: profile deployer (/home/me/.aws/config); state: s3://acme-tfstate/cognito-triggers-dev/terraform.tfstate (us-east-1, lock file)`,
      );
    });

    it('plans with local state only when ALLOW_LOCAL_STATE=1, and says the state is not shared', async () => {
      const w = world({ env: { TF_STATE_BUCKET: '', ALLOW_LOCAL_STATE: '1' }, tfJson: localBackend });
      await runCommand('plan', w.deps);
      expect(w.logs[0]).to.contain('state: local file /project/cdktf.out/stacks/cognito-triggers-dev/terraform.cognito-triggers-dev.tfstate (ALLOW_LOCAL_STATE=1; not shared');
    });

    it('names replacements and destroys in the log', async () => {
      const w = world({ planJson: replacePlan });
      await runCommand('plan', w.deps);
      expect(w.logs).to.include('  REPLACE aws_dynamodb_table.table_table_4E5F6A7B (forced by hash_key, range_key)');
      expect(w.logs).to.include('  DESTROY aws_kms_key.senders_key_2A3B4C5D');
    });
  });

  describe('deploy', () => {
    it('asks before applying and applies the saved plan when the answer is yes', async () => {
      const w = world({ answer: 'yes' });
      await runCommand('deploy', w.deps);
      expect(w.questions).to.deep.equal([`Apply this plan to cognito-triggers-dev (account ${ACCOUNT}, us-east-1)? Type "yes" to continue: `]);
      expect(w.tf().slice(-2)).to.deep.equal(['apply -input=false -lock-timeout=120s -auto-approve tfplan', 'output']);
    });

    it('applies nothing when the answer is anything but yes', async () => {
      const w = world({ answer: 'y' });
      expect(await refusal('deploy', w.deps)).to.equal('cancelled (answer was not "yes"); nothing was changed');
      expect(w.tf().some((a) => a.startsWith('apply'))).to.equal(false);
    });

    it('applies without asking when AUTO_APPROVE=1', async () => {
      const w = world({ env: { AUTO_APPROVE: '1' }, interactive: false });
      await runCommand('deploy', w.deps);
      expect(w.questions).to.deep.equal([]);
      expect(w.tf()).to.include('apply -input=false -lock-timeout=120s -auto-approve tfplan');
      expect(w.logs).to.include('AUTO_APPROVE=1: proceeding without asking.');
    });

    it('neither asks nor applies when the plan has no changes', async () => {
      const w = world({ planExit: 0, planJson: emptyPlan });
      await runCommand('deploy', w.deps);
      expect(w.questions).to.deep.equal([]);
      expect(w.tf().some((a) => a.startsWith('apply'))).to.equal(false);
      expect(w.logs).to.include('ENV=dev is up to date; nothing to apply.');
    });
  });

  describe('destroy', () => {
    const stateList = 'aws_cognito_user_pool.user-pool_pool_0A1B2C3D\naws_dynamodb_table.data_table_1\ndata.aws_caller_identity.current\n';

    it('names every resource it will destroy, plans -destroy, and asks for the environment name', async () => {
      const w = world({ stateList, answer: 'dev' });
      await runCommand('destroy', w.deps);
      expect(w.logs).to.include.members([
        `make destroy will delete these 2 resources of cognito-triggers-dev (account ${ACCOUNT}, us-east-1):`,
        '  - aws_cognito_user_pool.user-pool_pool_0A1B2C3D',
        '  - aws_dynamodb_table.data_table_1',
      ]);
      expect(w.tf()).to.deep.equal([
        'init -input=false -no-color',
        'state list',
        'plan -input=false -lock-timeout=120s -detailed-exitcode -destroy -out=tfplan',
        'show -json tfplan',
        'show -no-color tfplan',
        'apply -input=false -lock-timeout=120s -auto-approve tfplan',
      ]);
      expect(w.questions[0]).to.match(/Type "dev" to continue: $/);
    });

    it('does not destroy when the typed name is wrong', async () => {
      const w = world({ stateList, answer: 'yes' });
      expect(await refusal('destroy', w.deps)).to.equal('cancelled (answer was not "dev"); nothing was changed');
      expect(w.tf().some((a) => a.startsWith('apply'))).to.equal(false);
    });

    it('says there is nothing to destroy for an empty state', async () => {
      const w = world({ stateList: '' });
      await runCommand('destroy', w.deps);
      expect(w.logs).to.include('ENV=dev has nothing in its state; nothing to destroy.');
      expect(w.tf()).to.deep.equal(['init -input=false -no-color', 'state list']);
    });
  });

  describe('outputs', () => {
    it('reads local-state outputs without credentials', async () => {
      const w = world({ env: { TF_STATE_BUCKET: '', ALLOW_LOCAL_STATE: '1', AWS_PROFILE: '' }, tfJson: localBackend, files: { '/home/me/.aws/config': '' } });
      await runCommand('outputs', w.deps);
      expect(w.tf()).to.deep.equal(['init -input=false -no-color', 'output']);
    });

    it('needs credentials to read S3 state', async () => {
      const w = world({ env: { AWS_PROFILE: '' }, files: { '/home/me/.aws/config': '' } });
      expect(await refusal('outputs', w.deps)).to.contain('no AWS credentials found');
    });
  });

  describe('helpers', () => {
    it('reads the backend of a synthesized stack', () => {
      expect(synthBackend(s3Backend())).to.deep.equal({ kind: 's3', bucket: 'acme-tfstate', key: 'cognito-triggers-dev/terraform.tfstate', region: 'us-east-1', useLockfile: true });
      expect(synthBackend(localBackend)).to.deep.equal({ kind: 'local', path: 'terraform.cognito-triggers-dev.tfstate' });
      expect(synthBackend({ terraform: { backend: { remote: {} } } })).to.deep.equal({ kind: 'other', name: 'remote' });
    });

    it('builds plan and apply arguments that apply exactly the reviewed plan', () => {
      expect(planArgs(true, 'tfplan')).to.include('-destroy');
      expect(planArgs(false, 'tfplan')).not.to.include('-destroy');
      expect(applyArgs('tfplan').at(-1)).to.equal('tfplan');
    });

    it('keeps managed resources from terraform state list, including those in modules', () => {
      expect(stateAddresses('aws_a.b\ndata.aws_c.d\nmodule.m.aws_e.f\nmodule.m.data.aws_g.h\n\n')).to.deep.equal(['aws_a.b', 'module.m.aws_e.f']);
    });
  });

  describe('credential check (no AWS calls)', () => {
    const probe = (env: Record<string, string>, files: Record<string, string> = {}) => checkAwsCredentials({ env, homedir: '/h', readFile: (f) => files[f] });

    it('accepts environment keys, web identity, container credentials and an opted-in instance role', () => {
      expect(probe({ AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' })).to.deep.equal({ ok: true, source: 'environment keys (with session token)' });
      expect(probe({ AWS_WEB_IDENTITY_TOKEN_FILE: '/t', AWS_ROLE_ARN: 'arn:aws:iam::1:role/r' })).to.deep.equal({ ok: true, source: 'web identity for arn:aws:iam::1:role/r' });
      expect(probe({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/creds' })).to.deep.equal({ ok: true, source: 'container credentials' });
      expect(probe({ AWS_CREDENTIALS_SOURCE: 'instance' }).ok).to.equal(true);
    });

    it('finds profiles in the credentials file and honours AWS_CONFIG_FILE', () => {
      expect(probe({ AWS_PROFILE: 'ci' }, { '/h/.aws/credentials': '[ci]\naws_access_key_id=x\n' })).to.deep.equal({ ok: true, source: 'profile ci (/h/.aws/credentials)' });
      expect(probe({}, { '/etc/aws.cfg': '[default]\n' }).ok).to.equal(false);
      expect(probe({ AWS_CONFIG_FILE: '/etc/aws.cfg' }, { '/etc/aws.cfg': '[default]\n' }).ok).to.equal(true);
    });

    it('names the missing half of a key pair', () => {
      expect(probe({ AWS_ACCESS_KEY_ID: 'AKIA' })).to.deep.equal({ ok: false, message: 'AWS_SECRET_ACCESS_KEY is not set but its partner is: set both, or unset both and use AWS_PROFILE' });
    });

    it('parses INI section names', () => {
      expect(iniSections('[default]\na=1\n [profile  dev] \n[sso-session x]\n')).to.deep.equal(['default', 'profile dev', 'sso-session x']);
    });
  });
});
