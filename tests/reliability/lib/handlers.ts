/**
 * Runs a function's real handler in a child process with the environment the stack gives it,
 * pointing its AWS clients wherever a scenario needs through the SDK's standard endpoint variables.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { FUNCTIONS } from '../../../functions/catalog.ts';
import { loadConfig, type Config } from '../../../infra/config.ts';
import { functionEnvironment } from '../../../infra/functions/index.ts';
import { lambdaNode } from '../../../sandbox/lambda/node.ts';
import { LOCAL_AWS } from './services.ts';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
const RUNNER = path.join(import.meta.dirname, 'run-handler.ts');

/** Endpoints a child's clients use, as AWS_ENDPOINT_URL_<SERVICE>. */
export interface Endpoints {
  dynamodb?: string;
  sesv2?: string;
  sfn?: string;
  cognito?: string;
  kms?: string;
  secretsManager?: string;
}

const TABLE = 'reliability-table';
const ARN = (service: string, resource: string) => `arn:aws:${service}:us-east-1:123456789012:${resource}`;
const DEFAULTS = loadConfig({ env: {} });
const CONFIG: Config = { ...DEFAULTS, email: { ...DEFAULTS.email, appName: 'Reliability Test App', appUrl: 'https://app.example.com', fromName: 'Reliability Test App' } };

/**
 * The contract's variables for each function, from the same table the stack uses (infra/functions/)
 * with the default configuration and working sample resource values.
 */
export function functionEnv(name: string, tableName = TABLE): Record<string, string> {
  const spec = FUNCTIONS.find((f) => f.name === name);
  if (!spec) throw new Error(`unknown function ${name}`);
  const env = functionEnvironment(spec.name, CONFIG, {
    tableName,
    reminderStateMachineArn: ARN('states', 'stateMachine:signup-reminder'),
    kmsKeyArn: ARN('kms', 'key/11111111-2222-3333-4444-555555555555'),
    sendgridSecretArn: ARN('secretsmanager', 'secret:sendgrid-AbCdEf'),
    twilioSecretArn: ARN('secretsmanager', 'secret:twilio-AbCdEf'),
    legacy: { userPoolId: 'us-east-1_Legacy0001', clientId: 'legacyclientid', region: 'us-east-1' },
  });
  return { POWERTOOLS_SERVICE_NAME: name, POWERTOOLS_LOG_LEVEL: 'INFO', ...env };
}

/** One invocation's outcome inside the child. */
export interface Outcome {
  ms: number;
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string };
}

export interface ChildRun {
  outcomes: Outcome[];
  loadError?: { name: string; message: string };
  /** Every line the function wrote to stdout and stderr. */
  logLines: string[];
  /** Wall time of the whole child, start to exit. */
  wallMs: number;
}

/**
 * Invokes `functions/<name>/index.ts` in a fresh Node process with `events` in order.
 * `killAfterMs` bounds a child whose handler never answers (it is then reported as such, not awaited).
 */
export async function runHandler(
  name: string,
  events: unknown[],
  options: { endpoints?: Endpoints; env?: Record<string, string>; killAfterMs?: number } = {},
): Promise<ChildRun> {
  const e = options.endpoints ?? {};
  const endpointEnv: Record<string, string> = {};
  if (e.dynamodb) endpointEnv.AWS_ENDPOINT_URL_DYNAMODB = e.dynamodb;
  if (e.sesv2) endpointEnv.AWS_ENDPOINT_URL_SESV2 = e.sesv2;
  if (e.sfn) endpointEnv.AWS_ENDPOINT_URL_SFN = e.sfn;
  if (e.cognito) endpointEnv.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER = e.cognito;
  if (e.kms) endpointEnv.AWS_ENDPOINT_URL_KMS = e.kms;
  if (e.secretsManager) endpointEnv.AWS_ENDPOINT_URL_SECRETS_MANAGER = e.secretsManager;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_NO_WARNINGS: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true',
    // What the Lambda runtime itself sets.
    AWS_LAMBDA_FUNCTION_NAME: `reliability-${name}`,
    ...functionEnv(name),
    ...endpointEnv,
    ...options.env,
  };
  const modulePath = path.join(ROOT, 'functions', name, 'index.ts');
  const t0 = performance.now();
  const child = spawn(lambdaNode(), ['--import', 'tsx', RUNNER, modulePath], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => undefined);
  child.stdin.end(JSON.stringify(events));
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, options.killAfterMs ?? 30_000);
  await new Promise<void>((resolve) => child.on('close', () => resolve()));
  clearTimeout(timer);
  const wallMs = performance.now() - t0;
  const marker = out.lastIndexOf('@@RESULT@@');
  const logText = (marker >= 0 ? out.slice(0, marker) : out) + err;
  const logLines = logText.split('\n').filter((l) => l.trim() !== '');
  if (marker < 0) {
    return {
      outcomes: [],
      loadError: { name: killed ? 'Killed' : 'NoResult', message: killed ? `no answer within ${options.killAfterMs ?? 30_000} ms` : err.slice(-2000) },
      logLines,
      wallMs,
    };
  }
  const parsed = JSON.parse(out.slice(marker + '@@RESULT@@'.length).trim()) as Pick<ChildRun, 'outcomes' | 'loadError'>;
  return { ...parsed, logLines, wallMs };
}
