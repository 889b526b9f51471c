/**
 * `make sandbox`: the same stack as `make demo`, left running on fixed ports for an app under
 * development. Writes .sandbox/endpoints.json, prints a short guide, and stops cleanly on Ctrl-C,
 * leaving no process behind.
 *
 * Ports: cognito 9229, dynamodb 8000, ses 8005, lambda 9001, kms 9002, secretsManager 9003,
 * stepFunctions 8083, providers (SendGrid, Twilio and the stores) 9004, console 9005. Change any of them
 * with `SANDBOX_PORT_<NAME>` (for example `SANDBOX_PORT_COGNITO=9230`) or with a `ports` object in
 * `.sandbox/config.json`. Workflow waits are the rendered ones (minutes, from config/sandbox.json)
 * multiplied by `SANDBOX_WAIT_SCALE` (default 1); the start-up guide says so (sandbox/guide.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startupGuide } from './guide.ts';
import { startSandbox, type SandboxPorts } from './index.ts';
import { ROOT } from './stack.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const DEFAULT_PORTS: SandboxPorts = { cognito: 9229, dynamodb: 8000, ses: 8005, lambda: 9001, kms: 9002, secretsManager: 9003, stepFunctions: 8083, providers: 9004, console: 9005 };

function ports(): SandboxPorts {
  const file = path.join(ROOT, '.sandbox', 'config.json');
  const fromFile = existsSync(file) ? ((JSON.parse(readFileSync(file, 'utf8')) as { ports?: Partial<SandboxPorts> }).ports ?? {}) : {};
  const result = { ...DEFAULT_PORTS, ...fromFile };
  for (const key of Object.keys(result) as Array<keyof SandboxPorts>) {
    const raw = process.env[`SANDBOX_PORT_${key.replace(/([A-Z])/g, '_$1').toUpperCase()}`];
    if (raw === undefined) continue;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`SANDBOX_PORT_${key.toUpperCase()} must be a port number, got ${JSON.stringify(raw)}`);
    result[key] = port;
  }
  return result;
}

const scale = Number(process.env.SANDBOX_WAIT_SCALE ?? '1');
const waitScale = Number.isFinite(scale) && scale > 0 ? scale : 1;
const sandbox = await startSandbox({ ports: ports(), waits: 'asl', waitScale });
let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping the sandbox…');
  await sandbox.stop();
  console.log('Stopped; no sandbox process is left.');
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGHUP', () => void stop(0));

const dir = path.join(ROOT, '.sandbox');
mkdirSync(dir, { recursive: true });
const endpointsFile = path.join(dir, 'endpoints.json');
writeFileSync(endpointsFile, `${JSON.stringify(sandbox.endpoints, null, 2)}\n`);
console.log(startupGuide(sandbox, { endpointsFile: path.relative(process.cwd(), endpointsFile), waitScale }));
