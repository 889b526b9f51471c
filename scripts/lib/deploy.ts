/**
 * plan / deploy / destroy / outputs for one environment, run with Terraform directly on the stack that
 * `make synth` wrote to cdktf.out/stacks/<stack>/ (what `cdktf deploy` does too, minus its start-up time).
 *
 * Every outside effect (processes, prompts, files, the clock of the terminal) comes in through `DeployDeps`,
 * so the refusals, the prompts and the Terraform arguments are tested without AWS.
 */
import path from 'node:path';
import { remoteStateFromEnv, type RemoteState } from '../../infra/backend.ts';
import { overrideVariable, stackName, type Config } from '../../infra/config.ts';
import { checkAwsCredentials } from './aws-credentials.ts';
import { countActions, countsLine, summarizePlan, summaryRows, type PlanJson } from './plan-summary.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The commands of scripts/deploy.ts. */
export const COMMANDS = ['plan', 'deploy', 'destroy', 'outputs'] as const;
export type Command = (typeof COMMANDS)[number];

/** The account id in config/default.json, which lets the offline plan run but must never be deployed to. */
export const PLACEHOLDER_ACCOUNT_ID = '123456789012';

/** A refusal or failure with a one-line message that says what to do; the CLI prints it and exits 1. */
export class DeployError extends Error {
  override readonly name = 'DeployError';
}

/** Result of a child process. `stdout` is only collected when `capture` is set; otherwise output streams to the terminal. */
export interface RunResult {
  code: number;
  stdout: string;
}

/** Runs a program; never rejects for a non-zero exit (the caller decides), only when it cannot start. */
export type Runner = (command: string, args: readonly string[], options: { cwd: string; env: Env; capture?: boolean }) => Promise<RunResult>;

/** Everything `runCommand` needs from the outside world. */
export interface DeployDeps {
  /** The caller's environment: ENV, TF_STATE_*, AUTO_APPROVE, AWS_* ... */
  readonly env: Env;
  /** Project root (holds cdktf.out/). */
  readonly root: string;
  readonly homedir: string;
  readonly loadConfig: () => Config;
  /** The environment Terraform runs with (writes the project's CLI config). */
  readonly terraformEnv: () => Env | Promise<Env>;
  readonly run: Runner;
  /** Asks a question on the terminal and returns the answer. */
  readonly ask: (question: string) => Promise<string>;
  /** Whether there is a terminal to ask on. */
  readonly interactive: boolean;
  readonly readFile: (file: string) => string | undefined;
  readonly writeFile: (file: string, text: string) => void;
  readonly log: (line: string) => void;
}

/** The state backend a synthesized stack declares. */
export type SynthBackend = { kind: 'local'; path: string } | { kind: 's3'; bucket: string; key: string; region: string; useLockfile: boolean } | { kind: 'other'; name: string };

/** Reads `terraform.backend` of a cdk.tf.json. */
export function synthBackend(tfJson: unknown): SynthBackend {
  const backend = ((tfJson as { terraform?: { backend?: Record<string, Record<string, unknown>> } }).terraform?.backend ?? {}) as Record<string, Record<string, unknown>>;
  const [name, settings] = Object.entries(backend)[0] ?? ['local', {}];
  if (name === 'local') return { kind: 'local', path: String(settings.path ?? 'terraform.tfstate') };
  if (name === 's3') {
    return { kind: 's3', bucket: String(settings.bucket), key: String(settings.key), region: String(settings.region), useLockfile: settings.use_lockfile === true };
  }
  return { kind: 'other', name };
}

/**
 * Checks that the synthesized backend is the one the environment asks for, and that a real deployment
 * has shared state. Returns a description of the state for the log.
 */
export function checkState(backend: SynthBackend, wanted: RemoteState | undefined, env: Env, envName: string, stackDir: string): string {
  const resynth = `run \`make synth ENV=${envName}\` with the same TF_STATE_* settings`;
  if (backend.kind === 'other') throw new DeployError(`the stack declares a ${backend.name} backend, which these scripts do not manage: use terraform directly`);
  if (backend.kind === 'local' && wanted) throw new DeployError(`TF_STATE_BUCKET=${wanted.bucket} is set but the synthesized stack uses local state: ${resynth}`);
  if (backend.kind === 's3') {
    if (!wanted) throw new DeployError(`the synthesized stack keeps state in s3://${backend.bucket}/${backend.key} but TF_STATE_BUCKET is not set: set it, or ${resynth}`);
    for (const [field, got, want] of [['bucket', backend.bucket, wanted.bucket], ['key', backend.key, wanted.key], ['region', backend.region, wanted.region]] as const) {
      if (got !== want) throw new DeployError(`the synthesized state ${field} is ${got} but TF_STATE_* says ${want}: ${resynth}`);
    }
    if (!backend.useLockfile) throw new DeployError('the synthesized S3 backend has no use_lockfile, so two runs could write the state at once: run `make synth` again');
    return `s3://${backend.bucket}/${backend.key} (${backend.region}, lock file)`;
  }
  if (env.ALLOW_LOCAL_STATE !== '1') {
    throw new DeployError(
      `ENV=${envName} has no remote state: set TF_STATE_BUCKET (create the bucket once with \`make bootstrap\`), or ALLOW_LOCAL_STATE=1 for a throwaway deployment whose state stays in cdktf.out/ (lost by \`make clean\`)`,
    );
  }
  return `local file ${path.join(stackDir, backend.path)} (ALLOW_LOCAL_STATE=1; not shared, deleted by make clean)`;
}

/** Where a command leaves its plan: the binary next to the stack, JSON and text beside cdktf.out/. */
export function planFiles(root: string, stack: string): { binary: string; json: string; text: string } {
  return {
    binary: 'tfplan',
    json: path.join(root, 'cdktf.out', `${stack}.plan.json`),
    text: path.join(root, 'cdktf.out', `${stack}.plan.txt`),
  };
}

/** Arguments of `terraform plan`; `-detailed-exitcode` tells "no changes" (0) from "changes" (2). */
export function planArgs(destroy: boolean, planFile: string): string[] {
  return ['plan', '-input=false', '-lock-timeout=120s', '-detailed-exitcode', ...(destroy ? ['-destroy'] : []), `-out=${planFile}`];
}

/** Arguments of `terraform apply` of a saved plan: it applies exactly what was shown, and fails if the state moved on. */
export function applyArgs(planFile: string): string[] {
  return ['apply', '-input=false', '-lock-timeout=120s', '-auto-approve', planFile];
}

/** Link to the GitHub Actions run, when running in one. */
export function runUrl(env: Env): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: id } = env;
  return server && repo && id ? `${server}/${repo}/actions/runs/${id}` : undefined;
}

interface Context {
  readonly deps: DeployDeps;
  readonly command: Command;
  readonly config: Config;
  readonly envName: string;
  readonly stack: string;
  readonly dir: string;
  readonly tfEnv: Env;
}

async function terraform(ctx: Context, args: readonly string[], capture = false): Promise<RunResult> {
  return ctx.deps.run('terraform', args, { cwd: ctx.dir, env: ctx.tfEnv, capture });
}

async function mustTerraform(ctx: Context, args: readonly string[], capture = false): Promise<RunResult> {
  const result = await terraform(ctx, args, capture);
  if (result.code !== 0) throw new DeployError(`terraform ${args[0]} failed for ENV=${ctx.envName} (exit ${result.code}); its error is above`);
  return result;
}

/** Plans, writes plan JSON/text (and the pull-request comment when PLAN_COMMENT_FILE is set); returns the plan, or undefined when nothing changes. */
async function plan(ctx: Context, destroy: boolean): Promise<PlanJson | undefined> {
  const files = planFiles(ctx.deps.root, ctx.stack);
  const result = await terraform(ctx, planArgs(destroy, files.binary));
  if (result.code === 1 || (result.code !== 0 && result.code !== 2)) {
    throw new DeployError(`terraform plan failed for ENV=${ctx.envName} (exit ${result.code}); its error is above`);
  }
  const json = JSON.parse((await mustTerraform(ctx, ['show', '-json', files.binary], true)).stdout) as PlanJson;
  const text = (await mustTerraform(ctx, ['show', '-no-color', files.binary], true)).stdout;
  ctx.deps.writeFile(files.json, JSON.stringify(json));
  ctx.deps.writeFile(files.text, text);
  const url = runUrl(ctx.deps.env);
  const comment = summarizePlan(json, { environment: ctx.envName, planText: text, ...(url ? { runUrl: url } : {}) });
  const commentFile = ctx.deps.env.PLAN_COMMENT_FILE?.trim();
  if (commentFile) ctx.deps.writeFile(path.resolve(ctx.deps.root, commentFile), comment);

  const rows = summaryRows(json);
  ctx.deps.log(`Plan for ENV=${ctx.envName}: ${rows.length ? countsLine(countActions(rows)) : 'no changes'}.`);
  for (const r of rows.filter((x) => x.action === 'replace' || x.action === 'delete')) {
    ctx.deps.log(`  ${r.action === 'replace' ? 'REPLACE' : 'DESTROY'} ${r.address}${r.replacePaths?.length ? ` (forced by ${r.replacePaths.join(', ')})` : ''}`);
  }
  ctx.deps.log(`Plan files: ${path.relative(ctx.deps.root, files.json)}, ${path.relative(ctx.deps.root, files.text)}`);
  return result.code === 2 ? json : undefined;
}

/** Asks before an irreversible step unless AUTO_APPROVE=1; `expected` is the answer that proceeds. */
async function approve(ctx: Context, question: string, expected: string): Promise<void> {
  if (ctx.deps.env.AUTO_APPROVE === '1') {
    ctx.deps.log('AUTO_APPROVE=1: proceeding without asking.');
    return;
  }
  if (!ctx.deps.interactive) {
    throw new DeployError(`there is no terminal to ask for confirmation: review the plan above, then run again with AUTO_APPROVE=1`);
  }
  const answer = (await ctx.deps.ask(`${question} Type "${expected}" to continue: `)).trim();
  if (answer !== expected) throw new DeployError(`cancelled (answer was not "${expected}"); nothing was changed`);
}

/** Managed resource addresses in the state (data sources are not destroyed). */
export function stateAddresses(stateList: string): string[] {
  return stateList
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('data.') && !l.includes('.data.'));
}

/** Runs one command for the environment in `deps.env.ENV`; throws `DeployError` for every refusal. */
export async function runCommand(command: Command, deps: DeployDeps): Promise<void> {
  const config = deps.loadConfig();
  const envName = config.environment;
  const stack = stackName(config);
  const dir = path.join(deps.root, 'cdktf.out', 'stacks', stack);
  const where = `account ${config.awsAccountId}, ${config.region}`;

  // Refusals that need nothing from AWS come first, cheapest first.
  if (command === 'destroy' && config.deletionProtection) {
    throw new DeployError(
      `ENV=${envName} sets deletionProtection, so make destroy refuses: set "deletionProtection": false in config/${envName}.json (or ${overrideVariable(['deletionProtection'])}=false), run make deploy to lift the protection, then make destroy`,
    );
  }
  const tfText = deps.readFile(path.join(dir, 'cdk.tf.json'));
  if (tfText === undefined) throw new DeployError(`cdktf.out/stacks/${stack}/cdk.tf.json is missing: run \`make synth ENV=${envName}\` first`);
  const tfJson = JSON.parse(tfText) as { provider?: { aws?: { allowed_account_ids?: string[] }[] } };
  const synthAccounts = tfJson.provider?.aws?.[0]?.allowed_account_ids;
  if (synthAccounts && !synthAccounts.includes(config.awsAccountId)) {
    throw new DeployError(`cdktf.out was synthesized for account ${synthAccounts.join(', ')} but the configuration says ${config.awsAccountId}: run \`make synth ENV=${envName}\` with the same settings`);
  }
  const backend = synthBackend(tfJson);
  const wanted = remoteStateFromEnv(deps.env, { stackName: stack, region: config.region });
  const state = checkState(backend, wanted, deps.env, envName, dir);
  const needsAws = command !== 'outputs' || backend.kind === 's3';
  if (command !== 'outputs' && config.awsAccountId === PLACEHOLDER_ACCOUNT_ID) {
    throw new DeployError(`awsAccountId is the placeholder ${PLACEHOLDER_ACCOUNT_ID}: set your account id in config/${envName}.json or ${overrideVariable(['awsAccountId'])}`);
  }
  if (needsAws) {
    const creds = checkAwsCredentials({ env: deps.env, homedir: deps.homedir, readFile: deps.readFile });
    if (!creds.ok) throw new DeployError(`ENV=${envName}: ${creds.message}`);
    deps.log(`ENV=${envName} -> ${stack} in ${where}; credentials: ${creds.source}; state: ${state}`);
  }

  const tfEnv: Record<string, string | undefined> = { ...(await deps.terraformEnv()) };
  // The offline checks turn the metadata service off; a real deployment may need it for an instance role.
  if (deps.env.AWS_EC2_METADATA_DISABLED === undefined) delete tfEnv.AWS_EC2_METADATA_DISABLED;
  const ctx: Context = { deps, command, config, envName, stack, dir, tfEnv };

  await mustTerraform(ctx, ['init', '-input=false', '-no-color']);

  switch (command) {
    case 'plan':
      await plan(ctx, false);
      return;
    case 'deploy': {
      const changes = await plan(ctx, false);
      if (!changes) {
        deps.log(`ENV=${envName} is up to date; nothing to apply.`);
        return;
      }
      await approve(ctx, `Apply this plan to ${stack} (${where})?`, 'yes');
      await mustTerraform(ctx, applyArgs(planFiles(deps.root, stack).binary));
      await mustTerraform(ctx, ['output']);
      deps.log(`Deployed ENV=${envName}. Next: verify the SES identities and fill in the provider secrets (docs/deploying.md).`);
      return;
    }
    case 'destroy': {
      const addresses = stateAddresses((await mustTerraform(ctx, ['state', 'list'], true)).stdout);
      if (addresses.length === 0) {
        deps.log(`ENV=${envName} has nothing in its state; nothing to destroy.`);
        return;
      }
      deps.log(`make destroy will delete these ${addresses.length} resources of ${stack} (${where}):`);
      for (const a of addresses) deps.log(`  - ${a}`);
      await plan(ctx, true);
      await approve(ctx, `Destroy every resource above, including the user pools and every user in them?`, envName);
      await mustTerraform(ctx, applyArgs(planFiles(deps.root, stack).binary));
      deps.log(`Destroyed ENV=${envName}.`);
      return;
    }
    case 'outputs':
      await mustTerraform(ctx, ['output']);
      return;
  }
}
