/**
 * Sandbox end-to-end latency: what our triggers add to a user's sign-up, confirmation and sign-in.
 *
 * Two sandboxes run side by side from the same synthesized stack: one as synthesized (every trigger),
 * one with the user pool's `lambda_config` removed (no triggers; Cognito delivers the code itself
 * through the local SES). Users alternate between them, so machine noise hits both alike, and each
 * Cognito call is timed from the client (@aws-sdk/client-cognito-identity-provider). Waiting for the
 * code email is not timed: the custom email sender runs asynchronously, as in AWS.
 */
import {
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './builds.ts';
import { median, round } from './stats.ts';

export interface SandboxResult {
  readonly status: 'measured' | 'pending' | 'error';
  readonly reason?: string;
  /** Per operation: median milliseconds with triggers, without, and their ratio. */
  readonly operations?: Record<string, { withTriggersMs: number; withoutTriggersMs: number; ratio: number }>;
  /** Sign-up + confirm + sign-in, median of per-user sums. */
  readonly journey?: { withTriggersMs: number; withoutTriggersMs: number; ratio: number };
  readonly users?: number;
}

const LIBRARY = path.join(repoRoot, 'sandbox', 'index.ts');
const STACK_LIBRARY = path.join(repoRoot, 'sandbox', 'stack.ts');
const OPERATIONS = ['signUp', 'confirmSignUp', 'signIn'] as const;
type Operation = (typeof OPERATIONS)[number];

/** The parts of sandbox/index.ts the benchmark uses; checked at run time, since the sandbox evolves separately. */
interface SandboxLike {
  endpoints: { region: string; cognito: { endpoint: string; clientId: string } };
  credentials: { accessKeyId: string; secretAccessKey: string };
  stores: { waitFor(store: 'sendgrid' | 'ses', match: (m: { to?: string; recipients?: string[]; text?: string }) => boolean, timeoutMs?: number): Promise<{ text?: string }> };
  settle(): Promise<void>;
  stop(): Promise<void>;
}
type StartSandbox = (options: Record<string, unknown>) => Promise<SandboxLike>;
type LoadStack = (options: Record<string, unknown>) => Promise<unknown>;

function findFile(dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) {
      const found = findFile(full, name);
      if (found) return found;
    } else if (entry === name) return full;
  }
  return undefined;
}

/** The synthesized stack with every user pool's triggers removed. */
async function withoutTriggers(stackFile: string, out: string): Promise<void> {
  const doc = JSON.parse(await readFile(stackFile, 'utf8')) as { resource?: Record<string, Record<string, Record<string, unknown>>> };
  for (const pool of Object.values(doc.resource?.aws_cognito_user_pool ?? {})) delete pool.lambda_config;
  await writeFile(out, JSON.stringify(doc));
}

async function journey(sandbox: SandboxLike, email: string): Promise<Record<Operation, number>> {
  const { endpoints, credentials } = sandbox;
  const client = new CognitoIdentityProviderClient({ region: endpoints.region, endpoint: endpoints.cognito.endpoint, credentials, maxAttempts: 1 });
  const ClientId = endpoints.cognito.clientId;
  const password = 'Bench-Passw0rd!';
  const timed = async (call: () => Promise<unknown>): Promise<number> => {
    const started = process.hrtime.bigint();
    await call();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  try {
    const signUp = await timed(() =>
      client.send(new SignUpCommand({ ClientId, Username: email, Password: password, UserAttributes: [{ Name: 'email', Value: email }, { Name: 'name', Value: 'Bench User' }] })),
    );
    const isMine = (m: { to?: string; recipients?: string[] }) => m.to === email || (m.recipients ?? []).includes(email);
    const message = await Promise.any([sandbox.stores.waitFor('sendgrid', isMine, 15_000), sandbox.stores.waitFor('ses', isMine, 15_000)]);
    const code = /\b(\d{6})\b/.exec(message.text ?? '')?.[1];
    if (!code) throw new Error(`no 6-digit code in the message to ${email}`);
    const confirmSignUp = await timed(() => client.send(new ConfirmSignUpCommand({ ClientId, Username: email, ConfirmationCode: code })));
    const signIn = await timed(() =>
      client.send(new InitiateAuthCommand({ ClientId, AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } })),
    );
    return { signUp, confirmSignUp, signIn };
  } finally {
    client.destroy();
  }
}

/** Measures `users` journeys in each configuration (plus one unrecorded warm-up each), or says why it cannot. */
export async function measureSandbox(users: number): Promise<SandboxResult> {
  if (!existsSync(LIBRARY) || !existsSync(STACK_LIBRARY)) return { status: 'pending', reason: 'sandbox/index.ts (startSandbox) does not exist yet' };
  const library = (await import(LIBRARY)) as { startSandbox?: StartSandbox };
  const stackLibrary = (await import(STACK_LIBRARY)) as { loadStack?: LoadStack };
  if (typeof library.startSandbox !== 'function' || typeof stackLibrary.loadStack !== 'function') {
    return { status: 'pending', reason: 'sandbox/index.ts does not export startSandbox (or sandbox/stack.ts loadStack) yet' };
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-sandbox-'));
  const running: SandboxLike[] = [];
  try {
    await stackLibrary.loadStack({ outdir: path.join(tmp, 'synth'), reuse: false });
    const stackFile = findFile(path.join(tmp, 'synth'), 'cdk.tf.json');
    if (!stackFile) return { status: 'error', reason: 'the sandbox synth produced no cdk.tf.json' };
    const bareFile = path.join(tmp, 'no-triggers.tf.json');
    await withoutTriggers(stackFile, bareFile);
    const withTriggers = await library.startSandbox({ stackFile, waits: 'manual' });
    running.push(withTriggers);
    const noTriggers = await library.startSandbox({ stackFile: bareFile, waits: 'manual' });
    running.push(noTriggers);

    const samples = { with: [] as Array<Record<Operation, number>>, without: [] as Array<Record<Operation, number>> };
    const run = `${Date.now().toString(36)}`;
    for (let i = 0; i <= users; i++) {
      // Alternate which configuration goes first, so neither always runs on the warmer machine.
      const order = i % 2 ? (['without', 'with'] as const) : (['with', 'without'] as const);
      for (const mode of order) {
        const sandbox = mode === 'with' ? withTriggers : noTriggers;
        const result = await journey(sandbox, `bench-${run}-${mode}-${i}@gmail.com`);
        if (i > 0) samples[mode].push(result);
      }
    }
    const operations: NonNullable<SandboxResult['operations']> = {};
    for (const op of OPERATIONS) {
      const w = median(samples.with.map((s) => s[op]));
      const wo = median(samples.without.map((s) => s[op]));
      operations[op] = { withTriggersMs: round(w), withoutTriggersMs: round(wo), ratio: round(w / wo, 3) };
    }
    const total = (s: Record<Operation, number>) => s.signUp + s.confirmSignUp + s.signIn;
    const jw = median(samples.with.map(total));
    const jwo = median(samples.without.map(total));
    return { status: 'measured', users, operations, journey: { withTriggersMs: round(jw), withoutTriggersMs: round(jwo), ratio: round(jw / jwo, 3) } };
  } finally {
    for (const sandbox of running) {
      await sandbox.settle().catch(() => undefined);
      await sandbox.stop().catch(() => undefined);
    }
    await rm(tmp, { recursive: true, force: true });
  }
}
