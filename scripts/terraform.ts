/**
 * Terraform checks that need no AWS account and no internet.
 *
 *   node --import tsx scripts/terraform.ts validate       terraform init -backend=false + validate, every variant
 *   node --import tsx scripts/terraform.ts plan-offline   terraform plan with placeholder credentials, every variant;
 *                                                          writes cdktf.out/plan.json (configured mode) and
 *                                                          cdktf.out/plan-<variant>.json, and fails unless each
 *                                                          plan only creates exactly the expected resources
 *
 * The variants (VARIANTS) are both delivery modes, as configured and with threat protection; the other
 * delivery mode's variants also switch passwordless sign-in the other way (variantConfig). The configured
 * stack is the one `make synth` wrote to cdktf.out/; the others are synthesized here into .build/. Terraform gets its own CLI config (.build/terraform/terraform.rc) that installs
 * hashicorp/aws from a filesystem mirror when one is found (TF_PROVIDER_MIRROR, or discovered in the
 * standard plugin locations) and from the registry otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from 'cdktf';
import { remoteStateFromEnv } from '../infra/backend.ts';
import { loadConfig, stackName, type Config } from '../infra/config.ts';
import { isConfigured, variantConfig, VARIANTS, type StackVariant } from './lib/variants.ts';
import { expectedResourceCounts } from '../infra/expected.ts';
import { CognitoTriggersStack } from '../infra/stack.ts';

const root = path.resolve(import.meta.dirname, '..');
/** Build directory for Terraform work (git-ignored). */
export const BUILD_DIR = path.join(root, '.build', 'terraform');
const PROVIDER = 'registry.terraform.io/hashicorp/aws';

type DeliveryMode = Config['deliveryMode'];

export { THREAT_PROTECTION, VARIANTS, variantConfig, type StackVariant } from './lib/variants.ts';

/** Where the plan JSON of a variant goes: plan.json for the configured one, plan-<variant>.json for the others. */
export function planJsonPath(variant: string, configured: DeliveryMode): string {
  return path.join(root, 'cdktf.out', variant === configured ? 'plan.json' : `plan-${variant}.json`);
}

function hasProvider(dir: string): boolean {
  return existsSync(path.join(dir, ...PROVIDER.split('/')));
}

/**
 * The filesystem mirror holding hashicorp/aws, or undefined for a registry install. TF_PROVIDER_MIRROR
 * wins (`none` forces the registry); otherwise the standard plugin directories are checked, then a
 * shallow search of the file system, whose hit is cached in .build/.
 */
export function findProviderMirror(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const setting = env.TF_PROVIDER_MIRROR?.trim();
  if (setting === 'none') return undefined;
  if (setting) {
    if (!hasProvider(setting)) throw new Error(`TF_PROVIDER_MIRROR=${setting} has no ${PROVIDER} directory`);
    return path.resolve(setting);
  }
  const home = os.homedir();
  const dataDirs = (env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':').filter(Boolean);
  const standard = [
    path.join(home, '.terraform.d', 'plugins'),
    path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'terraform', 'plugins'),
    ...dataDirs.map((d) => path.join(d, 'terraform', 'plugins')),
  ];
  const found = standard.find(hasProvider);
  if (found) return found;

  const cacheFile = path.join(BUILD_DIR, 'mirror.json');
  if (existsSync(cacheFile)) {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { mirror?: string };
    if (cached.mirror && hasProvider(cached.mirror)) return cached.mirror;
  }
  // One pass, stopping at the first hit, pruning pseudo and dependency trees that cannot hold a mirror.
  const search = spawnSync(
    'find',
    ['/', '-maxdepth', '6', '(', '-path', '/proc', '-o', '-path', '/sys', '-o', '-path', '/dev', '-o', '-name', 'node_modules', '-o', '-name', '.git', ')', '-prune',
      '-o', '-path', `*/${PROVIDER}`, '-print', '-quit'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 },
  );
  const hit = search.stdout.trim().split('\n')[0];
  const mirror = hit ? hit.slice(0, -`/${PROVIDER}`.length) || '/' : undefined;
  // Only a hit is cached: a mirror installed later must still be found.
  if (mirror) {
    mkdirSync(BUILD_DIR, { recursive: true });
    writeFileSync(cacheFile, JSON.stringify({ mirror }) + '\n');
  }
  return mirror;
}

/** The Terraform CLI config text: the mirror for hashicorp/aws when there is one, the registry otherwise. */
export function cliConfig(mirror: string | undefined): string {
  if (!mirror) return 'provider_installation {\n  direct {}\n}\n';
  return [
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = ${JSON.stringify(mirror)}`,
    `    include = [${JSON.stringify(PROVIDER)}]`,
    '  }',
    '  direct {',
    `    exclude = [${JSON.stringify(PROVIDER)}]`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Writes the CLI config and returns the environment Terraform runs with. */
export function terraformEnv(): NodeJS.ProcessEnv {
  const mirror = findProviderMirror();
  mkdirSync(BUILD_DIR, { recursive: true });
  const rc = path.join(BUILD_DIR, 'terraform.rc');
  const text = cliConfig(mirror);
  if (!existsSync(rc) || readFileSync(rc, 'utf8') !== text) writeFileSync(rc, text);
  return {
    ...process.env,
    // The machine may point this at a file that does not exist; ours always does.
    TF_CLI_CONFIG_FILE: rc,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv, label: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('terraform', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`[${label}] terraform ${args.join(' ')} failed in ${path.relative(root, cwd)}:\n${stderr || stdout}`));
      } else resolve({ code: code ?? 0, stdout, stderr });
    });
  });
}

/**
 * `terraform init`, skipped when the directory was already initialised for the same providers, backend
 * and CLI config (the hash of those is kept next to .terraform).
 */
async function init(dir: string, env: NodeJS.ProcessEnv, extraArgs: string[], label: string, inputs: string[]): Promise<void> {
  const hash = createHash('sha256').update(JSON.stringify([extraArgs, readFileSync(env.TF_CLI_CONFIG_FILE!, 'utf8'), ...inputs])).digest('hex');
  const marker = path.join(dir, '.terraform', 'init.sha256');
  if (existsSync(marker) && existsSync(path.join(dir, '.terraform.lock.hcl')) && readFileSync(marker, 'utf8') === hash) return;
  await run(['init', '-input=false', '-no-color', ...extraArgs], dir, env, label);
  writeFileSync(marker, hash);
}

/** The parts of a synthesized stack that decide what `terraform init` does. */
function initInputs(tfJson: Record<string, unknown>): string[] {
  const terraform = (tfJson.terraform ?? {}) as Record<string, unknown>;
  return [JSON.stringify(terraform.required_providers ?? {}), JSON.stringify(terraform.backend ?? {})];
}

/** The configured stack, as `make synth` wrote it. */
function configuredStackDir(config: Config): string {
  const dir = path.join(root, 'cdktf.out', 'stacks', stackName(config));
  if (!existsSync(path.join(dir, 'cdk.tf.json'))) throw new Error(`${path.relative(root, dir)}/cdk.tf.json is missing; run \`make synth\` first`);
  return dir;
}


/** Synthesizes the stack of a variant into .build/synth-<variant>/ and returns its directory. */
function synthVariant(variant: StackVariant, configured: Config): string {
  const config = variantConfig(variant, configured);
  const outdir = path.join(root, '.build', `synth-${variant.name}`);
  const name = stackName(config);
  const app = new App({ outdir });
  new CognitoTriggersStack(app, name, { config, remoteState: remoteStateFromEnv(process.env, { stackName: name, region: config.region }) });
  app.synth();
  return path.join(outdir, 'stacks', name);
}

/** The stack directory of each variant: the configured one from cdktf.out/, the others synthesized here. */
function stackDirs(configured: Config): Record<string, string> {
  const dirs: Record<string, string> = {};
  for (const v of VARIANTS) dirs[v.name] = isConfigured(v, configured.deliveryMode) ? configuredStackDir(configured) : synthVariant(v, configured);
  return dirs;
}

function readTf(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8')) as Record<string, unknown>;
}

async function validate(): Promise<void> {
  const config = loadConfig();
  const env = terraformEnv();
  const dirs = stackDirs(config);
  await Promise.all(
    VARIANTS.map(async ({ name }) => {
      const started = performance.now();
      const dir = dirs[name]!;
      await init(dir, env, ['-backend=false'], name, initInputs(readTf(dir)));
      const out = await run(['validate', '-no-color'], dir, env, name);
      console.log(`validate ${name}: ${out.stdout.trim()} (${Math.round(performance.now() - started)} ms, ${path.relative(root, dir)})`);
    }),
  );
}

/** Provider settings that let `terraform plan` run with no credentials and no network. */
export const OFFLINE_OVERRIDE = {
  provider: {
    aws: {
      access_key: 'offline-placeholder',
      secret_key: 'offline-placeholder',
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_region_validation: true,
      // With no account id requested there is nothing to compare; null unsets the stack's guard here only.
      allowed_account_ids: null,
    },
  },
  // Whatever backend the stack declares, the offline plan reads and writes nothing remote.
  terraform: { backend: { local: { path: 'offline.tfstate' } } },
};

/** A `terraform show -json` plan, reduced to what the checks read. */
export interface PlanJson {
  resource_changes?: { address: string; type: string; mode: string; change: { actions: string[] } }[];
}

/** Problems with a plan: anything but create, and any count that differs from the expected one. */
export function checkPlan(plan: PlanJson, expected: Readonly<Record<string, number>>): string[] {
  const problems: string[] = [];
  const counts: Record<string, number> = {};
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== 'managed') {
      problems.push(`${rc.address} is a data source; the offline plan must not read from AWS`);
      continue;
    }
    if (rc.change.actions.join(',') !== 'create') problems.push(`${rc.address} would ${rc.change.actions.join('+')}, expected create only`);
    counts[rc.type] = (counts[rc.type] ?? 0) + 1;
  }
  for (const type of new Set([...Object.keys(counts), ...Object.keys(expected)])) {
    if ((counts[type] ?? 0) !== (expected[type] ?? 0)) problems.push(`${type}: plan creates ${counts[type] ?? 0}, expected ${expected[type] ?? 0}`);
  }
  return problems;
}

async function planOffline(): Promise<void> {
  const config = loadConfig();
  const env = terraformEnv();
  const dirs = stackDirs(config);
  const failures: string[] = [];
  await Promise.all(
    VARIANTS.map(async (variant) => {
      const mode = variant.name;
      const dir = dirs[mode]!;
      const started = performance.now();
      // A copy, so the override and local state never touch the synthesized stack.
      const work = path.join(BUILD_DIR, `plan-${mode}`);
      mkdirSync(work, { recursive: true });
      copyFileSync(path.join(dir, 'cdk.tf.json'), path.join(work, 'cdk.tf.json'));
      const assets = path.join(work, 'assets');
      rmSync(assets, { recursive: true, force: true });
      if (existsSync(path.join(dir, 'assets'))) symlinkSync(path.join(dir, 'assets'), assets, 'dir');
      writeFileSync(path.join(work, 'offline_override.tf.json'), JSON.stringify(OFFLINE_OVERRIDE, null, 2));
      for (const stale of ['offline.tfstate', 'tfplan']) rmSync(path.join(work, stale), { force: true });

      await init(work, env, [], mode, [...initInputs(readTf(work)), JSON.stringify(OFFLINE_OVERRIDE)]);
      await run(['plan', '-input=false', '-no-color', '-lock=false', '-refresh=false', '-out=tfplan'], work, env, mode);
      const shown = await run(['show', '-json', 'tfplan'], work, env, mode);
      const out = planJsonPath(mode, config.deliveryMode);
      writeFileSync(out, shown.stdout);

      const plan = JSON.parse(shown.stdout) as PlanJson;
      const problems = checkPlan(plan, expectedResourceCounts(variantConfig(variant, config)));
      const total = plan.resource_changes?.length ?? 0;
      if (problems.length > 0) failures.push(`plan ${mode}:\n  ${problems.join('\n  ')}`);
      console.log(
        `plan-offline ${mode}: ${problems.length ? 'FAILED' : 'ok'}, ${total} to create (${Math.round(performance.now() - started)} ms) -> ${path.relative(root, out)}`,
      );
    }),
  );
  if (failures.length > 0) throw new Error(failures.join('\n'));
}

if (import.meta.filename === process.argv[1]) {
  const command = process.argv[2];
  const commands: Record<string, () => Promise<void>> = { validate, 'plan-offline': planOffline };
  const action = command ? commands[command] : undefined;
  if (!action) {
    console.error('usage: node --import tsx scripts/terraform.ts validate|plan-offline');
    process.exit(2);
  }
  try {
    await action();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
