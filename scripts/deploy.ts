/**
 * make plan | deploy | destroy | outputs for ENV (default dev), on the stack `make synth` wrote.
 *
 *   node --import tsx scripts/deploy.ts plan|deploy|destroy|outputs
 *
 * Settings (environment): ENV; TF_STATE_BUCKET, TF_STATE_KEY, TF_STATE_REGION for S3 state with a lock file;
 * ALLOW_LOCAL_STATE=1 to deploy with local state; AUTO_APPROVE=1 to skip the prompts; PLAN_COMMENT_FILE to
 * write the pull-request comment; AWS_PROFILE or other AWS credentials. See docs/deploying.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ConfigValidationError, loadConfig } from '../infra/config.ts';
import { isMain } from './lib/cli.ts';
import { COMMANDS, DeployError, runCommand, type Command, type DeployDeps, type Runner } from './lib/deploy.ts';

const root = path.resolve(import.meta.dirname, '..');

/** Runs a program, streaming its output unless `capture` is set. */
export const spawnRunner: Runner = (command, args, { cwd, env, capture }) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env as NodeJS.ProcessEnv, stdio: ['inherit', capture ? 'pipe' : 'inherit', 'inherit'] });
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', (error) => reject(new DeployError(`cannot run ${command}: ${error.message}${command === 'terraform' ? ' (install Terraform 1.11.4)' : ''}`)));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
  });

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** The real world, for the CLI. */
export function processDeps(): DeployDeps {
  return {
    env: process.env,
    root,
    homedir: os.homedir(),
    loadConfig: () => loadConfig(),
    // Loaded on first use: it pulls in the stack, which refusals never need.
    terraformEnv: async () => (await import('./terraform.ts')).terraformEnv(),
    run: spawnRunner,
    ask,
    interactive: process.stdin.isTTY === true,
    readFile: (file) => (existsSync(file) ? readFileSync(file, 'utf8') : undefined),
    writeFile: (file, text) => {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    },
    log: (line) => console.log(line),
  };
}

if (isMain(import.meta.url)) {
  const command = process.argv[2];
  if (!COMMANDS.includes(command as Command)) {
    console.error(`usage: node --import tsx scripts/deploy.ts ${COMMANDS.join('|')}`);
    process.exit(2);
  }
  try {
    await runCommand(command as Command, processDeps());
  } catch (error) {
    if (error instanceof DeployError || error instanceof ConfigValidationError) {
      console.error(`${command}: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}
