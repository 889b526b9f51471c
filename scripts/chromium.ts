/**
 * `make browser` (run by `make test`): makes sure the browser test has a Chromium, installing Debian's
 * package when none is found (as root, or with passwordless sudo as on CI runners), and prints which
 * binary and version the test will drive. Exits 1, saying what to do, when it cannot.
 */
import { spawnSync } from 'node:child_process';
import { EXIT } from './lib/cli.ts';
import { findChromium, installPlan } from './lib/chromium.ts';

const ok = (command: string, args: readonly string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;

function version(binary: string): string {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${binary} --version failed (${result.status ?? result.signal}): ${result.stderr.trim()}`);
  return result.stdout.trim();
}

let binary = findChromium();
if (!binary && process.env.CHROMIUM_PATH?.trim()) {
  console.error(`CHROMIUM_PATH names ${process.env.CHROMIUM_PATH}, which does not exist.`);
  process.exit(EXIT.failed);
}
if (!binary) {
  const plan = installPlan({ isRoot: process.getuid?.() === 0, passwordlessSudo: ok('sudo', ['--non-interactive', 'true']), hasAptGet: ok('apt-get', ['--version']) });
  if ('refusal' in plan) {
    console.error(plan.refusal);
    process.exit(EXIT.failed);
  }
  console.log('No Chromium found; installing Debian\'s package for the browser test.');
  for (const command of plan.commands) {
    console.log(`$ ${command.join(' ')}`);
    const result = spawnSync(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (result.status !== 0) {
      console.error(`${command.join(' ')} failed (${result.status ?? result.signal}).`);
      process.exit(EXIT.failed);
    }
  }
  binary = findChromium();
  if (!binary) {
    console.error('The chromium package installed, yet no Chromium binary is at the expected paths.');
    process.exit(EXIT.failed);
  }
}
console.log(`Browser test: ${version(binary)} (${binary})`);
